# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``XDecoderHead`` (task outputs, targets, losses) and ``XDecoderFusionHead``
(post-processing) on their own: the head's loss on a tiny batch decreases under a few SGD steps
of the decoder it supervises, and the fusion head writes each task's fields with the release's
rules (mmdet ``MaskFormerFusionHead`` for instances and panoptic segmentation)."""
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from mmgen_vision.models.xdecoder import (XDecoderFusionHead, XDecoderHead,
                                          XDecoderLanguageEncoder, XDecoderTransformerDecoder)
from mmgen_vision.registry import MODELS

CLASSES = ['red circle', 'blue square', 'sky']
CRITERION = dict(type='XDecoderCriterion', num_points=None, num_semantic_predictions=2,
                 matcher=dict(type='PointSampledMatcher', num_points=None),
                 grounding_matcher=dict(
                     type='PointSampledMatcher', num_points=None,
                     match_costs=[dict(type='QuerySoftmaxCost', weight=2.0),
                                  dict(type='mmdet.CrossEntropyLossCost', weight=5.0,
                                       use_sigmoid=True),
                                  dict(type='mmdet.DiceCost', weight=5.0, pred_act=True,
                                       eps=1.0)]))


def parts():
    torch.manual_seed(0)
    decoder = XDecoderTransformerDecoder(in_channels=16, embed_dims=16, num_queries=5,
                                         num_heads=2, feedforward_channels=32, num_layers=2,
                                         mask_channels=16, proj_dim=16)
    lang = XDecoderLanguageEncoder(width=16, layers=1, heads=2, proj_dim=16,
                                   templates=['{}.'])
    head = MODELS.build(dict(type='XDecoderHead', criterion=CRITERION))
    return decoder, lang, head


def features(batch=2):
    """Fixed pixel-decoder outputs: 3 levels coarsest first and 1/4-scale mask features."""
    torch.manual_seed(1)
    multi = [torch.randn(batch, 16, s, s) for s in (2, 4, 8)]
    return multi, torch.randn(batch, 16, 8, 8)


def samples(batch=2):
    out = []
    for b in range(batch):
        masks = torch.zeros(2, 32, 32, dtype=torch.bool)
        masks[0, :16], masks[1, 16:] = True, True
        sample = DetDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                             batch_input_shape=(32, 32),
                                             text='the top.the bottom'))
        sample.gt_instances = InstanceData(labels=torch.tensor([b % 2, 2]), masks=masks)
        out.append(sample)
    return out


def test_get_targets_every_task():
    _, lang, head = parts()
    data = samples()
    targets, text = head.get_targets(data, 'panoptic', (32, 32), CLASSES, CLASSES[:2], lang)
    assert text == dict(class_names=CLASSES)
    assert targets[1]['labels'].tolist() == [1, 2] and targets[1]['masks'].shape == (2, 32, 32)
    targets, text = head.get_targets(data, 'referring', (40, 40), None, None, lang)
    assert text['phrases'] == [['the top', 'the bottom']] * 2
    grd = targets[0]['grd_masks']
    assert grd.shape == (2, 40, 40) and not grd[:, 32:].any()
    targets, text = head.get_targets(data, 'caption', (32, 32), None, None, lang)
    assert torch.equal(text['texts'], text['caption_ids'])
    assert targets[0]['caption_tokens'].shape == targets[0]['caption_mask'].shape
    with pytest.raises(ValueError, match='cannot train'):
        head.get_targets(data, 'vqa', (32, 32), None, None, lang)
    data[0].set_metainfo(dict(text='one phrase'))
    with pytest.raises(ValueError, match='1 phrases but 2 referred masks'):
        head.get_targets(data, 'referring', (32, 32), None, None, lang)


@pytest.mark.parametrize('task', ['panoptic', 'referring'])
def test_loss_decreases_under_sgd(task):
    """A few SGD steps on the decoder and language encoder through the head's loss."""
    decoder, lang, head = parts()
    decoder.train(), lang.train(), head.train()
    multi, mask_features = features()
    data = samples()
    targets, text = head.get_targets(data, task, (32, 32), CLASSES, CLASSES[:2], lang)
    params = list(decoder.parameters()) + list(lang.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)

    def loss_value():
        kwargs, embeds = {}, {}
        if task == 'referring':
            tokens, pooled, mask = lang.encode_texts(text['phrases'][0])
            grounding = tokens[mask][None].repeat(2, 1, 1)
            kwargs = dict(grounding_tokens=grounding)
            embeds['phrase_embeds'] = [pooled, pooled]
        else:
            embeds['class_embeds'] = lang.encode_class_names(text['class_names'])
        outputs = head.task_outputs(decoder(multi, mask_features, **kwargs), lang, **embeds)
        losses = head.loss_by_feat(outputs, targets, task)
        return sum(v for k, v in losses.items() if 'loss' in k), losses

    first, losses = loss_value()
    expected = 'loss_grd_dice' if task == 'referring' else 'loss_dice'
    assert expected in losses and 'd1.' + expected in losses  # deep supervision
    # only the task's predictions reach the criterion
    assert not any('grd' in k for k in losses) if task == 'panoptic' else \
        not any('loss_cls' in k for k in losses)
    for _ in range(8):
        optimizer.zero_grad()
        total, _ = loss_value()
        total.backward()
        optimizer.step()
    last, _ = loss_value()
    assert last.item() < 0.8 * first.item(), (first.item(), last.item())


def test_task_outputs_format():
    decoder, lang, head = parts()
    head.eval()
    multi, mask_features = features()
    with torch.no_grad():
        preds = decoder(multi, mask_features)
        outputs = head.task_outputs(preds, lang, class_embeds=lang.encode_class_names(CLASSES),
                                    text_embeds=torch.randn(2, 16))
    assert len(outputs) == 3  # learnable queries + 2 layers
    out = outputs[-1]
    assert out['pred_logits'].shape == (2, 5, 4) and out['pred_masks'].shape == (2, 5, 8, 8)
    assert out['image_embeds'].shape == (2, 16) and out['text_embeds'].shape == (2, 16)
    assert out['logit_scale'] is lang.logit_scale
    with pytest.raises(RuntimeError, match='criterion'):
        XDecoderHead().loss_by_feat(outputs, [{}, {}], 'semantic')


def meta(**kwargs):
    return DetDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(64, 48),
                                       batch_input_shape=(32, 32), **kwargs))


def test_fusion_predict_output_format():
    fusion = XDecoderFusionHead()
    torch.manual_seed(0)
    logits, masks = torch.randn(2, 5, 4) * 4, torch.randn(2, 5, 8, 8) * 4
    data = [meta(), meta()]
    fusion.predict(logits, masks, data, 'panoptic', CLASSES, CLASSES[:2])
    for sample in data:
        assert sample.seg_logits.data.shape == (3, 64, 48)
        assert sample.pred_sem_seg.data.shape == (1, 64, 48)
        assert sample.pred_sem_seg.data.dtype == torch.long
        inst = sample.pred_instances
        assert len(inst) == min(100, 4 * 3) and inst.masks.shape[1:] == (64, 48)
        assert inst.masks.dtype == torch.bool and inst.bboxes.shape == (len(inst), 4)
        assert (inst.labels < 3).all() and ((inst.scores >= 0) & (inst.scores <= 1)).all()
        pan = sample.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, 64, 48) and pan.dtype == torch.long
    grd = fusion.predict_referring(torch.randn(2, 4, 3), torch.randn(2, 4, 8, 8), data, [1, 3])
    assert [len(r['masks']) for r in grd] == [1, 3]
    fusion.write_referring(data[1], grd[1])
    assert data[1].pred_instances.labels.tolist() == [0, 1, 2]
    assert data[1].pred_sem_seg.data.shape == (1, 64, 48)


def _panoptic(fusion, logits, masks, names, things):
    sample = DetDataSample(metainfo=dict(img_shape=(8, 12), ori_shape=(8, 12),
                                         batch_input_shape=(8, 12)))
    fusion.panoptic(logits, masks, sample, names, things)
    return sample.pred_panoptic_seg.sem_seg[0]


def test_panoptic_release_rule_and_class_order():
    """The release's merge: a segment is dropped by ``overlap_thr`` on its arg-max area
    (before the ``>= 0.5`` filter), then keeps its arg-max pixels with probability >= 0.5."""
    fusion = XDecoderFusionHead()
    logits = torch.tensor([[9., 0., 0.], [0., 9., 0.]])  # query 0: class 0, query 1: class 1
    prob = torch.full((2, 8, 12), 0.01)
    prob[0, :, 0:4] = 0.9  # query 0's mask: columns 0-3 ...
    prob[0, :, 8:12] = 0.45  # ... and it wins the low-probability columns 8-11
    prob[1, :, 2:8] = 0.95  # query 1 takes columns 2-7
    masks = torch.logit(prob)
    pan = _panoptic(fusion, logits, masks, ['a', 'b'], ['a', 'b'])
    # query 0: arg-max area 6 columns / mask area 4 columns >= 0.8: kept on columns 0-1
    assert (pan[:, :2] == 0 + INSTANCE_OFFSET).all()
    assert (pan[:, 2:8] == 1 + 2 * INSTANCE_OFFSET).all()
    assert (pan[:, 8:] == 2).all()  # void (num_classes)
    # stuff listed before things: mmdet wants things first, labels come back in our order
    pan = _panoptic(fusion, logits, masks, ['a', 'b'], ['b'])
    assert (pan[:, :2] == 0).all()  # stuff 'a': its label only
    assert (pan[:, 2:8] == 1 + INSTANCE_OFFSET).all()
    assert (pan[:, 8:] == 2).all()
