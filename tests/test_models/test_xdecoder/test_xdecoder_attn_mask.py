# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Who may attend to whom in the X-Decoder decoder, per task: the mask builder's entries and
the decoder's behaviour (outputs that must not depend on rows they may not see)."""
import torch

from mmgen_vision.models.xdecoder import (XDecoderTransformerDecoder, build_self_attn_mask,
                                          expand_self_attn_mask)

Q = 5  # 4 object queries + the global query (index 4)


def allowed(mask, i, j):
    return not bool(mask[i, j])


def test_generic_mask():
    mask = build_self_attn_mask(Q)
    assert mask.shape == (Q, Q)
    for i in range(Q - 1):
        for j in range(Q - 1):
            assert allowed(mask, i, j)  # objects see each other
        assert not allowed(mask, i, Q - 1)  # ... but not the global query
        assert not allowed(mask, Q - 1, i)  # and it does not see them
    assert allowed(mask, Q - 1, Q - 1)


def test_caption_mask_is_causal_and_one_way():
    t = 4
    mask = build_self_attn_mask(Q, num_text=t)
    text = range(Q, Q + t)
    for i in text:
        for j in range(Q):
            assert allowed(mask, i, j)  # tokens see every latent query (incl. global)
            assert not allowed(mask, j, i)  # latent queries never see tokens
        for j in text:
            assert allowed(mask, i, j) == (j <= i)  # causal among tokens
    # the generic block is unchanged
    assert torch.equal(mask[:Q, :Q], build_self_attn_mask(Q))


def test_vqa_mask_is_bidirectional_among_text():
    mask = build_self_attn_mask(Q, num_text=3, causal=False)
    assert not mask[Q:, Q:].any()
    assert mask[:Q, Q:].all()


def test_referring_mask_blocks():
    g, p = Q - 1, 3
    mask = build_self_attn_mask(Q, num_grounding_queries=g, num_grounding_tokens=p)
    size = Q + g + p
    assert mask.shape == (size, size)
    grounding = list(range(Q, size))
    for i in grounding:
        for j in grounding:
            assert allowed(mask, i, j)  # copied queries + phrase tokens: full attention
        for j in range(Q):
            assert not allowed(mask, i, j) and not allowed(mask, j, i)  # blocks isolated
    assert torch.equal(mask[:Q, :Q], build_self_attn_mask(Q))


def test_all_rows_compose():
    # latent | grounding copies | caption tokens | phrase tokens
    g, t, p = Q - 1, 2, 3
    mask = build_self_attn_mask(Q, g, t, p)
    text = slice(Q + g, Q + g + t)
    assert mask[text, Q:Q + g].all() and mask[text, Q + g + t:].all()  # text ignores grounding
    assert mask[Q:Q + g, text].all()  # and grounding ignores text
    assert not mask[text, :Q].any()


def test_expand_with_key_padding():
    mask = build_self_attn_mask(Q, Q - 1, 0, 3)
    padding = torch.zeros(2, mask.shape[0], dtype=torch.bool)
    padding[1, -1] = True  # the last phrase token of image 1 is padding
    out = expand_self_attn_mask(mask, 2, num_heads=3, key_padding=padding)
    assert out.shape == (6, mask.shape[0], mask.shape[0])
    assert torch.equal(out[0], mask) and torch.equal(out[2], mask)  # batch-major, per head
    assert out[3:, :-1, -1].all()  # nobody attends to the padded token
    assert not out[3:, -1, -1].any()  # its own row is never empty


def tiny_decoder():
    torch.manual_seed(0)
    dec = XDecoderTransformerDecoder(in_channels=16, embed_dims=16, num_queries=Q, num_heads=2,
                                     feedforward_channels=32, num_layers=3, mask_channels=16,
                                     proj_dim=8, context_length=8)
    return dec.eval()


def features(batch=2):
    torch.manual_seed(1)
    feats = [torch.randn(batch, 16, s, s) for s in (2, 4, 8)]
    return feats, torch.randn(batch, 16, 16, 16)


@torch.no_grad()
def test_decoder_latent_outputs_ignore_text_and_grounding():
    dec = tiny_decoder()
    feats, mask_features = features()
    generic = dec(feats, mask_features)
    caption = dec(feats, mask_features, text_tokens=torch.randn(2, 4, 16))
    grounding = dec(feats, mask_features, grounding_tokens=torch.randn(2, 3, 16))
    assert len(generic) == 4  # learnable queries + 3 layers
    for a, b, c in zip(generic, caption, grounding):
        torch.testing.assert_close(a['class_embeds'], b['class_embeds'])
        torch.testing.assert_close(a['class_embeds'], c['class_embeds'])
        torch.testing.assert_close(a['masks'], c['masks'])
    assert grounding[-1]['grd_class_embeds'].shape == (2, Q - 1, 8)
    assert caption[-1]['text_embeds'].shape == (2, 4, 8)


@torch.no_grad()
def test_decoder_caption_is_causal():
    dec = tiny_decoder()
    feats, mask_features = features()
    tokens = torch.randn(2, 5, 16)
    changed = tokens.clone()
    changed[:, 3:] = torch.randn(2, 2, 16)
    a = dec(feats, mask_features, text_tokens=tokens)[-1]['text_embeds']
    b = dec(feats, mask_features, text_tokens=changed)[-1]['text_embeds']
    torch.testing.assert_close(a[:, :3], b[:, :3])  # earlier positions unaffected
    assert not torch.allclose(a[:, 3:], b[:, 3:])
    # VQA (bidirectional): earlier positions do depend on later ones
    c = dec(feats, mask_features, text_tokens=tokens, causal=False)[-1]['text_embeds']
    d = dec(feats, mask_features, text_tokens=changed, causal=False)[-1]['text_embeds']
    assert not torch.allclose(c[:, :3], d[:, :3])


@torch.no_grad()
def test_decoder_grounding_depends_on_phrase_and_ignores_padding():
    dec = tiny_decoder()
    feats, mask_features = features(batch=1)
    tokens = torch.randn(1, 3, 16)
    a = dec(feats, mask_features, grounding_tokens=tokens)[-1]
    b = dec(feats, mask_features, grounding_tokens=torch.randn(1, 3, 16))[-1]
    assert not torch.allclose(a['grd_class_embeds'], b['grd_class_embeds'])
    padded = torch.cat([tokens, torch.randn(1, 2, 16)], dim=1)
    padding = torch.tensor([[False, False, False, True, True]])
    c = dec(feats, mask_features, grounding_tokens=padded, grounding_padding=padding)[-1]
    torch.testing.assert_close(a['grd_class_embeds'], c['grd_class_embeds'])
    torch.testing.assert_close(a['grd_masks'], c['grd_masks'])


@torch.no_grad()
def test_decoder_text_region_restricts_cross_attention():
    dec = tiny_decoder()
    feats, mask_features = features(batch=1)
    tokens = torch.randn(1, 3, 16)
    region = torch.zeros(1, 16, 16, dtype=torch.bool)
    region[:, :8, :8] = True  # top-left quarter
    a = dec(feats, mask_features, text_tokens=tokens, text_region=region)[-1]['text_embeds']
    # a region covering the whole map is the unrestricted decoder; a quarter is not
    full = dec(feats, mask_features, text_tokens=tokens)[-1]['text_embeds']
    everything = torch.ones_like(region)
    b = dec(feats, mask_features, text_tokens=tokens, text_region=everything)[-1]['text_embeds']
    torch.testing.assert_close(full, b)
    assert not torch.allclose(a, full)
