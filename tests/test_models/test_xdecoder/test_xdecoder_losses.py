# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder criterion: the matcher and every loss against values computed by hand on tiny
tensors (``num_points=None``: every pixel of the prediction grid, no random sampling)."""
import math

import pytest
import torch

from mmgen_vision.models.xdecoder.losses import (PointSampledMatcher, XDecoderCriterion,
                                                 caption_loss, image_text_contrastive_loss,
                                                 tied_caption_loss)
from mmgen_vision.registry import MODELS, TASK_UTILS

LN3 = math.log(3.0)
# BCE of a logit +-ln 3 (sigmoid 0.75 / 0.25): right side -ln 0.75, wrong side -ln 0.25
RIGHT, WRONG = -math.log(0.75), -math.log(0.25)


def _dense_criterion(**kwargs) -> XDecoderCriterion:
    kwargs.setdefault('matcher', dict(type='PointSampledMatcher', num_points=None))
    kwargs.setdefault(
        'grounding_matcher',
        dict(type='PointSampledMatcher', num_points=None,
             match_costs=[dict(type='QuerySoftmaxCost', weight=2.0),
                          dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                          dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]))
    return XDecoderCriterion(num_points=None, **kwargs)


def _upsample2(mask) -> torch.Tensor:
    """A 2x2 mask as a 4x4 bool mask of 2x2 blocks (targets at 4x the 1/4-res predictions
    would be 8x; 2x keeps the test small and still exercises the resampling)."""
    return torch.tensor(mask, dtype=torch.float).repeat_interleave(2, 0).repeat_interleave(
        2, 1).bool()


def test_registered():
    assert MODELS.get('XDecoderCriterion') is XDecoderCriterion
    assert TASK_UTILS.get('PointSampledMatcher') is PointSampledMatcher


def test_matcher_finds_obvious_permutation():
    matcher = PointSampledMatcher(num_points=None)
    gt_masks = torch.stack([_upsample2([[1, 1], [0, 0]]), _upsample2([[0, 0], [1, 1]]),
                            _upsample2([[1, 0], [1, 0]])])
    gt_labels = torch.tensor([2, 0, 1])
    # query q predicts gt perm[q] (strong logits and the right class); query 1 predicts noise
    perm = {0: 2, 2: 0, 3: 1}
    masks = torch.full((4, 2, 2), -4.0)
    scores = torch.zeros(4, 4)
    for q, g in perm.items():
        masks[q] = torch.tensor([[[1, 1], [0, 0]], [[0, 0], [1, 1]], [[1, 0], [1, 0]]])[g] * 8. - 4
        scores[q, gt_labels[g]] = 5.0
    query_inds, gt_inds = matcher(scores, masks, gt_labels, gt_masks)
    assert query_inds.tolist() == [0, 2, 3]
    assert gt_inds.tolist() == [2, 0, 1]
    # no ground truth: nothing is matched
    q, g = matcher(scores, masks, gt_labels[:0], gt_masks[:0])
    assert q.numel() == 0 and g.numel() == 0


def _seg_case():
    # B = 1, Q = 2 queries, K = 1 class (+ background), prediction 2x2, target 4x4.
    # gt: one object of class 0 on the top-left cell.
    # q0: logits [2, 0] and mask logits [[ln3, -ln3], [-ln3, ln3]] -> matched to the object;
    # q1: logits [1, 0] and an all-negative mask -> background.
    logits = torch.tensor([[[2.0, 0.0], [1.0, 0.0]]], requires_grad=True)
    masks = torch.tensor([[[[LN3, -LN3], [-LN3, LN3]], [[-5., -5.], [-5., -5.]]]],
                         requires_grad=True)
    targets = [dict(labels=torch.tensor([0]), masks=_upsample2([[1, 0], [0, 0]])[None])]
    return logits, masks, targets


def test_class_and_mask_losses_hand_computed():
    logits, masks, targets = _seg_case()
    losses = _dense_criterion()([dict(pred_logits=logits, pred_masks=masks)], targets)
    assert set(losses) == {'loss_cls', 'loss_mask', 'loss_dice'}
    # class: q0 target 0: CE = ln(1 + e^-2) = 0.126928 (weight 1);
    #        q1 target background: CE = ln(1 + e^1) = 1.313262 (no-object weight 0.1)
    #        weighted mean = (0.126928 + 0.1 * 1.313262) / 1.1 = 0.234776, x 2 = 0.469552
    ce0, ce1 = math.log(1 + math.exp(-2)), math.log(1 + math.exp(1))
    assert losses['loss_cls'].item() == pytest.approx(2 * (ce0 + 0.1 * ce1) / 1.1, rel=1e-5)
    # mask BCE of q0 over its 4 pixels: target [[1, 0], [0, 0]] (the 4x4 target sampled at the
    # prediction's pixel centres): 3 right, 1 wrong (bottom-right) -> (3 * 0.287682 +
    # 1.386294) / 4 = 0.562335, x 5 = 2.811675
    assert losses['loss_mask'].item() == pytest.approx(5 * (3 * RIGHT + WRONG) / 4, rel=1e-5)
    # Dice (naive, eps 1): p = [.75, .25, .25, .75], t = [1, 0, 0, 0]:
    # 1 - (2 * 0.75 + 1) / (2.0 + 1 + 1) = 0.375, x 5 = 1.875
    assert losses['loss_dice'].item() == pytest.approx(5 * 0.375, rel=1e-5)
    sum(losses.values()).backward()
    assert masks.grad[0, 1].abs().sum() == 0  # the unmatched query has no mask loss
    assert logits.grad.abs().sum() > 0


def test_global_query_left_out():
    # a third ("global") query with the perfect mask and class would win the matching; with
    # num_global_queries=1 it is ignored and the losses equal those of the two latent queries
    logits, masks, targets = _seg_case()
    reference = _dense_criterion()([dict(pred_logits=logits, pred_masks=masks)], targets)
    glob_logits = torch.cat([logits, torch.tensor([[[9.0, -9.0]]])], dim=1)
    glob_masks = torch.cat([masks, torch.tensor([[[[9., -9.], [-9., -9.]]]])], dim=1)
    outputs = [dict(pred_logits=glob_logits, pred_masks=glob_masks)]
    losses = _dense_criterion(num_global_queries=1)(outputs, targets)
    for key, value in reference.items():
        assert losses[key].item() == pytest.approx(value.item())
    assert _dense_criterion()(outputs, targets)['loss_mask'].item() < reference[
        'loss_mask'].item()


def test_no_object_weight_and_empty_targets():
    logits, masks, _ = _seg_case()
    targets = [dict(labels=torch.zeros(0, dtype=torch.long), masks=torch.zeros(0, 4, 4).bool())]
    losses = _dense_criterion(no_object_weight=0.5)([dict(pred_logits=logits,
                                                          pred_masks=masks)], targets)
    # both queries are background: CE ln(1 + e^2) and ln(1 + e^1), equal weights 0.5 cancel
    expected = (math.log(1 + math.exp(2)) + math.log(1 + math.exp(1))) / 2
    assert losses['loss_cls'].item() == pytest.approx(2 * expected, rel=1e-5)
    assert losses['loss_mask'].item() == 0 and losses['loss_dice'].item() == 0


def test_grounding_losses_hand_computed():
    # Qg = 2 queries, P = 1 phrase whose mask is the top-left cell; q0 has the mask of
    # _seg_case, q1 an all-negative one -> q0 matched. Logits over queries [1, 0]:
    # CE = ln(1 + e^-1) = 0.313262, x 0.4 = 0.125305. BCE 0.562335 and Dice 0.375, weights 1.
    grd_logits = torch.tensor([[[1.0], [0.0]]])
    grd_masks = torch.tensor([[[[LN3, -LN3], [-LN3, LN3]], [[-5., -5.], [-5., -5.]]]])
    targets = [dict(grd_masks=_upsample2([[1, 0], [0, 0]])[None])]
    losses = _dense_criterion()([dict(pred_grd_logits=grd_logits, pred_grd_masks=grd_masks)],
                                targets)
    assert losses['loss_grd_ce'].item() == pytest.approx(0.4 * math.log(1 + math.exp(-1)),
                                                         rel=1e-5)
    assert losses['loss_grd_mask'].item() == pytest.approx((3 * RIGHT + WRONG) / 4, rel=1e-5)
    assert losses['loss_grd_dice'].item() == pytest.approx(0.375, rel=1e-5)
    # two images, the second with two phrases padded to P = 2 columns; the CE is averaged
    # over the 3 phrases of the batch
    grd_logits = torch.zeros(2, 2, 2)
    grd_logits[0, 0, 0] = 1.0
    grd_masks = torch.cat([grd_masks, grd_masks.flip(1)])
    targets = [targets[0], dict(grd_masks=torch.stack([_upsample2([[0, 0], [0, 0]])] * 2))]
    losses = _dense_criterion()([dict(pred_grd_logits=grd_logits, pred_grd_masks=grd_masks)],
                                targets)
    # phrase 1: 0.313262; phrases of image 2: logits all 0 -> ln 2 each
    expected = (math.log(1 + math.exp(-1)) + 2 * math.log(2)) / 3
    assert losses['loss_grd_ce'].item() == pytest.approx(0.4 * expected, rel=1e-5)


def test_caption_loss_hand_computed():
    # T = 3, V = 2; tokens [0, 1, 1], mask [1, 1, 0]: the only target is token 1 predicted at
    # position 0 from logits [0, ln 3] -> p = 3/4, CE = -ln 0.75 = 0.287682; position 1 would
    # predict the padding and is ignored whatever its logits
    logits = torch.tensor([[[0.0, LN3], [9.0, -9.0], [0.3, 0.1]]])
    tokens = torch.tensor([[0, 1, 1]])
    mask = torch.tensor([[True, True, False]])
    assert caption_loss(logits, tokens, mask).item() == pytest.approx(RIGHT, rel=1e-6)
    losses = _dense_criterion()([dict(pred_captions=logits)],
                                [dict(caption_tokens=tokens[0], caption_mask=mask[0])])
    assert losses['loss_caption'].item() == pytest.approx(2 * RIGHT, rel=1e-6)



@pytest.mark.parametrize('threads', [1, 2])
def test_tied_caption_loss_is_the_dense_loss_bitwise(threads):
    """The training path's caption loss (logits at the valid targets only) takes bitwise the
    value and gradients of the dense ``(B, T, V)`` logits' loss at CLIP's vocabulary, including
    caption lengths at which a product over the valid rows alone would sum the weight's
    gradient in another order (B * T >= 216 here); so the recorded learning numbers hold."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(0)
        vocab, dim = 49408, 32
        weight = torch.randn(vocab, dim, generator=gen) * 0.02
        for batch, length in [(8, 13), (8, 27), (8, 33), (4, 11)]:
            embeds = torch.randn(batch, length, dim, generator=gen) * 3
            tokens = torch.randint(0, vocab, (batch, length), generator=gen)
            lengths = torch.randint(2, length + 1, (batch, ), generator=gen)
            mask = torch.arange(length)[None] < lengths[:, None]
            results = []
            for tied in (False, True):
                e, w = embeds.clone().requires_grad_(), weight.clone().requires_grad_()
                loss = (tied_caption_loss(e, w, tokens, mask) if tied else
                        caption_loss(e @ w.t(), tokens, mask))
                results.append((loss, *torch.autograd.grad(loss, (e, w))))
            for dense, tied in zip(*results):
                assert torch.equal(dense, tied), (batch, length)
    finally:
        torch.set_num_threads(previous)
    # no valid target: a zero connected to both inputs
    e, w = torch.randn(1, 3, 4, requires_grad=True), torch.randn(5, 4, requires_grad=True)
    zero = tied_caption_loss(e, w, torch.zeros(1, 3, dtype=torch.long),
                             torch.tensor([[True, False, False]]))
    assert zero.item() == 0 and zero.requires_grad
    with pytest.raises(ValueError, match='caption embeds'):
        tied_caption_loss(e, w[:, :3], torch.zeros(1, 3, dtype=torch.long),
                          torch.ones(1, 3, dtype=torch.bool))


def test_tied_caption_loss_under_cpu_autocast():
    """bf16 autocast: the selected logits take the low-precision product (plain autograd)
    and the loss stays near fp32's; gradients reach both inputs in their own dtype."""
    gen = torch.Generator().manual_seed(1)
    embeds = torch.randn(2, 6, 16, generator=gen, requires_grad=True)
    weight = torch.randn(50, 16, generator=gen, requires_grad=True)
    tokens = torch.randint(0, 50, (2, 6), generator=gen)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    reference = caption_loss(embeds @ weight.t(), tokens, mask)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = tied_caption_loss(embeds, weight, tokens, mask)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(reference.item(), rel=0.05)
    loss.backward()
    assert embeds.grad.dtype == torch.float32 and weight.grad.abs().sum() > 0


def test_criterion_caption_loss_from_the_tied_weight():
    """What the head hands over in training (``query_text_embeds`` + ``caption_weight``) gives
    the criterion's loss on the dense logits."""
    gen = torch.Generator().manual_seed(2)
    embeds, weight = torch.randn(1, 3, 4, generator=gen), torch.randn(6, 4, generator=gen)
    target = dict(caption_tokens=torch.tensor([0, 5, 2]),
                  caption_mask=torch.tensor([True, True, False]))
    dense = _dense_criterion()([dict(pred_captions=embeds @ weight.t())], [target])
    tied = _dense_criterion()([dict(query_text_embeds=embeds, caption_weight=weight)], [target])
    assert set(tied) == {'loss_caption'}
    assert torch.equal(tied['loss_caption'], dense['loss_caption'])

def test_contrastive_loss_hand_computed():
    # images (3, 0) and (0, 2) -> e0, e1; texts (1, 0) and (1, 1) -> e0, (e0 + e1) / sqrt 2.
    # logit_scale ln 2 -> scale 2: S = 2 * [[1, r], [0, r]], r = 1 / sqrt 2
    # i2t: row 0 target 0: ln(1 + e^(2r - 2)), row 1 target 1: ln(1 + e^(-2r))
    # t2i: S^T = [[2, 0], [2r, 2r]]: ln(1 + e^-2), ln 2. Loss = mean of both directions' means
    image = torch.tensor([[3.0, 0.0], [0.0, 2.0]])
    text = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    r = 1 / math.sqrt(2)
    i2t = (math.log(1 + math.exp(2 * r - 2)) + math.log(1 + math.exp(-2 * r))) / 2
    t2i = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    loss = image_text_contrastive_loss(image, text, torch.tensor(math.log(2)))
    assert loss.item() == pytest.approx((i2t + t2i) / 2, rel=1e-6)  # 0.370066
    # the scale is clamped at 100: logit_scale ln 1000 gives the same loss as ln 100
    big = image_text_contrastive_loss(image, text, torch.tensor(math.log(1000.)))
    assert big.item() == pytest.approx(
        image_text_contrastive_loss(image, text, torch.tensor(math.log(100.))).item())
    losses = _dense_criterion()(
        [dict(image_embeds=image, text_embeds=text, logit_scale=torch.tensor(math.log(2)))], [{}])
    assert losses['loss_retrieval'].item() == pytest.approx(2 * (i2t + t2i) / 2, rel=1e-6)


def test_deep_supervision_keys():
    logits, masks, targets = _seg_case()
    targets[0].update(caption_tokens=torch.tensor([0, 1, 1]),
                      caption_mask=torch.tensor([True, True, False]))
    caption_logits = torch.zeros(1, 3, 2)
    outputs = [dict(pred_logits=logits, pred_masks=masks, pred_captions=caption_logits)
               for _ in range(5)]
    losses = _dense_criterion()(outputs, targets)
    expected = {'loss_cls', 'loss_mask', 'loss_dice', 'loss_caption'}
    for i in range(4):
        expected |= {f'd{i}.loss_cls', f'd{i}.loss_mask', f'd{i}.loss_dice'}
    expected |= {'d2.loss_caption', 'd3.loss_caption'}  # semantic losses: last 3 predictions
    assert set(losses) == expected
    # identical predictions -> identical losses at every depth
    assert losses['d0.loss_dice'].item() == pytest.approx(losses['loss_dice'].item())


def test_importance_sampling_path():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 3, requires_grad=True)
    masks = torch.randn(2, 4, 8, 8, requires_grad=True)
    targets = [dict(labels=torch.tensor([0, 1]), masks=torch.rand(2, 32, 32) > 0.5),
               dict(labels=torch.tensor([1]), masks=torch.rand(1, 32, 32) > 0.5)]
    criterion = XDecoderCriterion(matcher=dict(type='PointSampledMatcher', num_points=64),
                                  num_points=64)
    losses = criterion([dict(pred_logits=logits, pred_masks=masks)], targets)
    assert all(torch.isfinite(v) for v in losses.values())
    # BCE on random masks is near ln 2 per point (x 5); Dice within (0, 5)
    assert 0.5 * 5 < losses['loss_mask'].item() < 1.5 * 5
    assert 0 < losses['loss_dice'].item() < 5
    sum(losses.values()).backward()
    assert masks.grad.abs().sum() > 0


def test_errors():
    logits, masks, targets = _seg_case()
    criterion = _dense_criterion()
    with pytest.raises(KeyError, match='`labels`'):
        criterion([dict(pred_logits=logits, pred_masks=masks)], [dict(masks=targets[0]['masks'])])
    with pytest.raises(ValueError, match='has label 3'):
        criterion([dict(pred_logits=logits, pred_masks=masks)],
                  [dict(labels=torch.tensor([3]), masks=targets[0]['masks'])])
    with pytest.raises(KeyError, match='logit_scale'):
        criterion([dict(image_embeds=torch.ones(2, 2), text_embeds=torch.ones(2, 2))], [{}, {}])
    with pytest.raises(ValueError, match='num_points'):
        XDecoderCriterion(num_points=0)
