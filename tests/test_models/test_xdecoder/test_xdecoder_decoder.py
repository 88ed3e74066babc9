# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder pixel decoder, language encoder and the decoder's prediction head."""
import pytest
import torch

from mmgen_vision.models.xdecoder import (XDecoderLanguageEncoder, XDecoderPixelDecoder,
                                          XDecoderTransformerDecoder, default_templates)
from mmgen_vision.models.xdecoder.language_encoder import clean_class_name


def test_pixel_decoder_shapes_and_fpn_order():
    torch.manual_seed(0)
    dec = XDecoderPixelDecoder((8, 16, 32, 64), feat_channels=16, out_channels=12,
                               num_encoder_layers=1, num_heads=2, feedforward_channels=32,
                               norm_cfg=dict(type='GN', num_groups=4)).eval()
    feats = [torch.randn(2, c, 32 // 2**i, 48 // 2**i) for i, c in enumerate((8, 16, 32, 64))]
    with torch.no_grad():
        mask_features, multi = dec(feats)
        assert mask_features.shape == (2, 12, 32, 48)
        assert [m.shape[-2:] for m in multi] == [(4, 6), (8, 12), (16, 24)]  # coarsest first
        # the coarsest output only depends on res5 (through the encoder)
        other = [torch.randn_like(f) for f in feats[:3]] + [feats[3]]
        torch.testing.assert_close(dec(other)[1][0], multi[0])
        assert not torch.allclose(dec(other)[1][1], multi[1])
    with pytest.raises(ValueError, match='num_outs'):
        XDecoderPixelDecoder((8, 16), num_outs=3)


def test_pixel_decoder_name_does_not_shadow_mmdet():
    """mmdet's ``TransformerEncoderPixelDecoder`` (MaskFormer) returns ``(mask_features,
    memory)``; ours has another contract and another name, and our scope does not shadow it."""
    from mmdet.registry import MODELS as MMDET_MODELS

    from mmgen_vision.registry import MODELS
    assert MODELS.get('XDecoderPixelDecoder') is XDecoderPixelDecoder
    assert 'TransformerEncoderPixelDecoder' not in MODELS.module_dict
    assert MMDET_MODELS.get('TransformerEncoderPixelDecoder') is not XDecoderPixelDecoder


@pytest.fixture(scope='module')
def lang():
    torch.manual_seed(0)
    return XDecoderLanguageEncoder(width=16, layers=2, heads=2, proj_dim=8).eval()


def test_tokens_pad_with_eot_and_pool_at_first_eot(lang):
    ids, mask = lang.tokenize(['a red circle', 'dog'])
    sot, eot = lang.tokenizer.sot_token_id, lang.tokenizer.eot_token_id
    assert ids.shape == (2, 77) and ids[0, 0] == sot
    assert (ids[1, 2:] == eot).all()  # padded with EOT, as the release's tokenizer
    assert mask[1].sum() == 3 and mask[0].sum() == 5  # SOT..EOT
    with torch.no_grad():
        tokens, pooled = lang.encode_ids(ids)
    torch.testing.assert_close(pooled[1], tokens[1, 2])  # first EOT
    assert tokens.shape == (2, 77, 8)


def test_class_embeddings_template_ensemble(lang):
    templates = default_templates()
    assert len(templates) == 81 and templates[0] == '{}.' and templates[1] == 'a photo of a {}.'
    assert clean_class_name('wall-other-merged') == 'wall'
    with torch.no_grad():
        emb = lang.encode_class_names(['red circle', 'blue square'])
        assert emb.shape == (3, 8)  # background appended
        torch.testing.assert_close(emb.norm(dim=-1), torch.ones(3))
        # the mean of the normalised per-template embeddings, renormalised
        _, pooled, _ = lang.encode_texts([t.format('background') for t in templates])
        ref = torch.nn.functional.normalize(pooled, dim=-1).mean(0)
        torch.testing.assert_close(emb[2], ref / ref.norm(), atol=1e-5, rtol=0)
        single = lang.encode_class_names(['red circle'], with_background=False,
                                         templates=['{}.'])
        assert not torch.allclose(single[0], emb[0])
    lang.train()
    try:
        torch.manual_seed(0)
        a = lang.encode_class_names(['red circle'] * 8, with_background=False)
        assert len({tuple(r.tolist()) for r in a.detach()}) > 1  # random template per class
    finally:
        lang.eval()


def test_similarities_scale_and_clamp(lang):
    a, b = torch.randn(3, 8), torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    with torch.no_grad():
        lang.logit_scale.fill_(5.0)  # exp(5) = 148 > 100
        cos = torch.nn.functional.normalize(a, dim=-1) @ b.t()
        torch.testing.assert_close(lang.compute_similarity(a, b), 148.4131591 * cos, atol=1e-3,
                                   rtol=1e-5)
        torch.testing.assert_close(lang.vl_similarity(a, b), 100 * cos, atol=1e-4, rtol=1e-5)
        lang.logit_scale.fill_(1.0)


def test_global_query_is_attention_pooled_objects():
    torch.manual_seed(0)
    dec = XDecoderTransformerDecoder(in_channels=8, embed_dims=8, num_queries=4, num_heads=2,
                                     feedforward_channels=16, num_layers=1, mask_channels=8,
                                     proj_dim=8).eval()
    latent = torch.randn(2, 4, 8)
    out = dec._recompute_global(latent)
    torch.testing.assert_close(out[:, :3], latent[:, :3])
    cos = torch.nn.functional.cosine_similarity(latent[:, 3:], latent[:, :3], dim=-1)
    expected = (cos.softmax(-1)[..., None] * latent[:, :3]).sum(1)
    torch.testing.assert_close(out[:, 3], expected, atol=1e-5, rtol=1e-5)
    feats = [torch.randn(2, 8, s, s) for s in (2, 4, 8)]
    preds = dec(feats, torch.randn(2, 8, 16, 16))
    assert len(preds) == 2
    # semantic outputs are the normalised rows through class_embed
    assert preds[-1]['class_embeds'].shape == (2, 4, 8)
    assert preds[-1]['masks'].shape == (2, 4, 16, 16)
    assert preds[0]['attn_mask'].shape == (2 * 2, 4, 4)  # batch-major x heads, level 0 size
    with pytest.raises(ValueError, match='feature levels'):
        dec(feats[:2], torch.randn(2, 8, 16, 16))
