# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder's captioning and image-text training path against the release:

- teacher forcing: the logits at ``t`` predict token ``t + 1``, padding after the first EOT is
  not a target, and the outputs at ``t`` never see a later token;
- the caption tokens enter the decoder as *detached* content (the language encoder is reached
  through their positional copy only), as the release does;
- the caption head is tied to the token embedding of the language encoder (gradients reach
  it) and its logits carry the decoder's ``caption_scale``;
- the release's query-token term of the retrieval loss, against a direct loop;
- the toy config's captioning path learns a few captions by heart in a few dozen steps (it sat
  on the unigram distribution before ``caption_scale``).
"""
import math
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config

from conftest import REPO_ROOT
from mmgen_vision.models.xdecoder import XDecoderTransformerDecoder
from mmgen_vision.models.xdecoder.losses import (XDecoderCriterion, caption_loss,
                                                 query_token_contrastive_loss)
from mmgen_vision.registry import MODELS

TOY_CONFIG = osp.join(REPO_ROOT, 'configs', 'xdecoder', 'xdecoder_toy_shapesworld-joint.py')


def tiny_decoder(**kwargs) -> XDecoderTransformerDecoder:
    cfg = dict(in_channels=16, embed_dims=16, num_queries=5, num_heads=2, feedforward_channels=32,
               num_layers=2, mask_channels=16, proj_dim=16, context_length=12)
    cfg.update(kwargs)
    return XDecoderTransformerDecoder(**cfg)


def decoder_inputs(batch: int = 2):
    feats = [torch.randn(batch, 16, s, s) for s in (2, 4, 8)]
    return feats, torch.randn(batch, 16, 16, 16)


def test_caption_targets_are_the_inputs_shifted_by_one():
    """CE of position t against token t + 1, padding (after the first EOT) ignored."""
    torch.manual_seed(0)
    tokens = torch.tensor([[5, 1, 2, 9, 9], [5, 3, 9, 9, 9]])  # 9 = EOT, also the padding
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]).bool()
    logits = torch.randn(2, 5, 10)
    expected = [-logits[b, t].log_softmax(-1)[tokens[b, t + 1]]
                for b in range(2) for t in range(4) if mask[b, t + 1]]
    loss = caption_loss(logits, tokens, mask)
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-6)
    # anything at the padded targets (and at the last position) is irrelevant
    changed = logits.clone()
    changed[0, 3:] = 50.
    changed[1, 2:] = -50.
    assert caption_loss(changed, tokens, mask).item() == pytest.approx(loss.item(), rel=1e-6)


def test_caption_outputs_are_causal():
    """The caption output at position t depends on tokens <= t only."""
    torch.manual_seed(0)
    decoder = tiny_decoder().eval()
    feats, mask_features = decoder_inputs()
    tokens = torch.randn(2, 6, 16)
    changed = tokens.clone()
    changed[:, 4] += 1.
    with torch.no_grad():
        out = decoder(feats, mask_features, text_tokens=tokens)[-1]['text_embeds']
        out2 = decoder(feats, mask_features, text_tokens=changed)[-1]['text_embeds']
    torch.testing.assert_close(out[:, :4], out2[:, :4], rtol=0, atol=0)
    assert (out[:, 4:] - out2[:, 4:]).abs().max() > 1e-4


def test_caption_tokens_enter_the_decoder_detached():
    """Release: the caption tokens are the decoder rows' detached content; their gradient
    comes only through the positional copy ``tokens + caption_pos_embed``, so it equals the
    positional embedding's gradient (summed over the batch)."""
    torch.manual_seed(0)
    decoder = tiny_decoder()
    feats, mask_features = decoder_inputs()
    tokens = torch.randn(2, 6, 16, requires_grad=True)
    preds = decoder(feats, mask_features, text_tokens=tokens)
    sum(p['text_embeds'].square().sum() for p in preds).backward()
    assert tokens.grad.abs().max() > 0
    torch.testing.assert_close(tokens.grad.sum(0), decoder.caption_pos_embed.weight.grad[:6])


def test_caption_scale_multiplies_the_caption_outputs():
    torch.manual_seed(0)
    decoder = tiny_decoder().eval()
    feats, mask_features = decoder_inputs()
    tokens = torch.randn(2, 6, 16)
    with torch.no_grad():
        out = decoder(feats, mask_features, text_tokens=tokens)[-1]['text_embeds']
        decoder.caption_scale = 8.0
        scaled = decoder(feats, mask_features, text_tokens=tokens)[-1]['text_embeds']
    torch.testing.assert_close(scaled, 8.0 * out)
    with pytest.raises(ValueError, match='caption_scale'):
        tiny_decoder(caption_scale=0.)


def test_query_token_contrastive_loss_against_a_loop():
    """The release's fine-grained retrieval term, written out token by token."""
    torch.manual_seed(0)
    queries, tokens = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]]).bool()
    logit_scale = torch.tensor(2.0)
    scale = math.exp(2.0)
    cos = torch.nn.functional.cosine_similarity
    entries = [(c, p) for c in range(3) for p in range(6) if mask[c, p]]
    weight = {(c, p): p + 1 for c, p in entries}  # position 1..n inside the caption
    total = {c: sum(w for (cc, _), w in weight.items() if cc == c) for c in range(3)}
    sim = torch.tensor([[scale * cos(queries[j], tokens[c, p][None], dim=-1).mean().item()
                         for c, p in entries] for j in range(3)])
    i2t = -sum(weight[e] / total[e[0]] * sim[i].log_softmax(0)[k]
               for i in range(3) for k, e in enumerate(entries) if e[0] == i) / 3
    t2i = -sum(weight[e] / total[e[0]] * sim[:, k].log_softmax(0)[e[0]]
               for k, e in enumerate(entries)) / len(entries)
    loss = query_token_contrastive_loss(queries, tokens, mask, logit_scale)
    assert loss.item() == pytest.approx((0.7 * i2t + 0.3 * t2i).item(), rel=1e-5)

    # the criterion adds it (x 0.5, the release) to the global term of the last predictions
    criterion = XDecoderCriterion(num_points=None, num_semantic_predictions=1)
    image, text = torch.randn(3, 8), torch.randn(3, 8)
    base = dict(image_embeds=image, text_embeds=text, logit_scale=logit_scale)
    fine = dict(base, class_embeds=torch.cat([queries, image[:, None]], 1),
                text_token_embeds=tokens, text_token_mask=mask)
    plain = criterion([base], [{}] * 3)['loss_retrieval']
    both = criterion([fine], [{}] * 3)['loss_retrieval']
    assert both.item() == pytest.approx(plain.item() + 2 * 0.5 * loss.item(), rel=1e-5)


def toy_model():
    cfg = Config.fromfile(TOY_CONFIG)
    return MODELS.build(cfg.model)


def caption_batch(model, captions, size=32):
    torch.manual_seed(1)
    images, samples = [], []
    for caption in captions:
        images.append(torch.randint(0, 255, (3, size, size), dtype=torch.uint8))
        samples.append(DetDataSample(metainfo=dict(img_shape=(size, size), task='caption',
                                                   text=caption)))
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples), True)
    return data['inputs'], data['data_samples']


def test_toy_caption_head_is_tied_and_scaled():
    """The caption logits are ``caption_scale * caption outputs @ token_embedding^T``, and the
    caption loss reaches the (tied) token embedding; the toy keeps the paper width's scale."""
    torch.manual_seed(0)
    model = toy_model().train()
    assert model.decoder.caption_scale == pytest.approx((512 / 32)**1.5)
    inputs, samples = caption_batch(model, ['a red circle', 'two blue squares'])
    ids, _ = model.lang_encoder.tokenize(['a red circle', 'two blue squares'])
    out = model.decode(inputs, 'caption', caption_ids=ids[:, :6])[-1]
    # training hands the tied weight to the criterion (logits at the valid tokens only)
    assert out['caption_weight'] is model.lang_encoder.token_embedding
    assert 'pred_captions' not in out
    model.eval()
    with torch.no_grad():
        out = model.decode(inputs, 'caption', caption_ids=ids[:, :6])[-1]
    logits = out['query_text_embeds'] @ model.lang_encoder.token_embedding.t()
    torch.testing.assert_close(out['pred_captions'], logits)
    model.train()
    losses = model.loss(inputs, samples)
    losses['loss_caption'].backward()
    grad = model.lang_encoder.text_encoder.token_embedding.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_toy_captioning_learns_a_few_captions():
    """Overfitting four captions: the toy's caption cross-entropy falls from ln(49408) = 10.8
    to < 1 nat per token in 40 steps (with the release's scale at width 32 it stays above 3,
    the unigram distribution of the tokens)."""
    torch.manual_seed(0)
    model = toy_model().train()
    captions = ['a red circle on the grass', 'two blue squares under a cloudy sky',
                'a yellow star left of a person', 'a green triangle is the largest thing']
    inputs, samples = caption_batch(model, captions)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    for _ in range(40):
        losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if 'loss_caption' in k)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    final = (model.loss(inputs, samples)['loss_caption'].item() /
             model.head.criterion.loss_caption_weight)
    assert final < 1.0, final
