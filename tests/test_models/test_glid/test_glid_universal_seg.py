# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID panoptic / instance / semantic segmentation and multi-task fine-tuning (shared
everything but the per-task linear layers)."""
import copy

import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from mmgen_vision.models.glid import GLIDUniversalSegmentor
from test_glid_model import CORE, SEG_HEAD


def _head():
    head = copy.deepcopy(SEG_HEAD)
    head.pop('num_classes')
    head['loss_cls'].pop('class_weight')
    return head


def make_model(tasks=('panoptic', 'instance', 'semantic'), test_task='panoptic'):
    torch.manual_seed(0)
    model = GLIDUniversalSegmentor(
        encoder_decoder=copy.deepcopy(CORE), num_queries=4, seg_head=_head(),
        tasks=tasks, num_things_classes=2, num_stuff_classes=1, test_task=test_task)
    model.init_weights()
    return model


def make_sample(size=32):
    masks = torch.zeros(2, size, size, dtype=torch.bool)
    masks[0, :8, :8] = True  # thing class 0
    masks[1, 16:, 16:] = True  # thing class 1
    sem = torch.full((1, size, size), 2)  # stuff class 2 elsewhere
    sem[0, :8, :8] = 0
    sem[0, 16:, 16:] = 1
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         batch_input_shape=(size, size)))
    sample.gt_instances = InstanceData(labels=torch.tensor([0, 1]),
                                       masks=BitmapMasks(masks.numpy(), size, size))
    sample.gt_sem_seg = PixelData(sem_seg=sem)
    return sample, masks, sem


def test_targets_per_task():
    model = make_model()
    sample, masks, sem = make_sample()
    pan = model.targets([sample], 'panoptic', (32, 32))[0]
    assert pan.labels.tolist() == [0, 1, 2]
    assert torch.equal(pan.masks[:2], masks) and torch.equal(pan.masks[2], sem[0] == 2)
    ins = model.targets([sample], 'instance', (32, 32))[0]
    assert ins.labels.tolist() == [0, 1] and torch.equal(ins.masks, masks)
    semantic = model.targets([sample], 'semantic', (32, 32))[0]
    assert semantic.labels.tolist() == [0, 1, 2]
    assert torch.equal(semantic.masks[1], sem[0] == 1)
    # padded inputs: masks are padded bottom/right to the batch size
    assert model.targets([sample], 'instance', (40, 36))[0].masks.shape == (2, 40, 36)


def test_multitask_shares_everything_but_the_linear_layers():
    model = make_model()
    per_task = {n for n, _ in model.named_parameters() if n.startswith('heads.')}
    assert per_task == {f'heads.{t}.fc.{w}' for t in ('panoptic', 'instance', 'semantic')
                        for w in ('weight', 'bias')}
    assert model.heads['instance'].fc.out_features == WIDTH_PLUS(2)
    assert model.heads['panoptic'].fc.out_features == WIDTH_PLUS(3)
    sample, _, _ = make_sample()
    losses = model.loss(torch.randn(1, 3, 32, 32), [sample])
    assert {'panoptic.loss_cls', 'instance.loss_dice', 'semantic.d0.loss_mask'} <= set(losses)
    total = sum(losses.values())
    total.backward()
    for t in ('panoptic', 'instance', 'semantic'):
        assert model.heads[t].fc.weight.grad.abs().sum() > 0
    single = make_model(tasks=('panoptic', ))
    assert 'loss_cls' in single.loss(torch.randn(1, 3, 32, 32), [make_sample()[0]])
    assert torch.allclose(torch.as_tensor(model.heads['instance'].class_weight),
                          torch.tensor([1., 1., .1]))
    with pytest.raises(KeyError, match='test_task'):
        make_model(tasks=('instance', ), test_task='panoptic')
    with pytest.raises(KeyError, match='tasks must be'):
        make_model(tasks=('boxes', ))


def WIDTH_PLUS(num_classes):
    return CORE['decoder']['embed_dims'] + num_classes + 1


def _fixed_answers(model, task):
    """Query 0: thing class 0 on the left half; query 1: stuff class 2 on the right half;
    queries 2-3: no-object."""
    num_classes = model.num_classes_of(task)
    cls = torch.full((1, 1, 4, num_classes + 1), -9.)
    cls[..., 0, 0] = 9.
    cls[..., 1, min(2, num_classes - 1)] = 9.
    cls[..., 2:, num_classes] = 9.
    masks = torch.full((1, 1, 4, 8, 8), -9.)
    masks[..., 0, :, :4] = 9.
    masks[..., 1, :, 4:] = 9.
    model.heads[task].forward = lambda hs, f_b: (cls, masks)


def test_panoptic_decoding():
    """Through mmdet ``BaseDetector``'s mode dispatch and ``MaskFormer``'s packing."""
    from mmdet.models.detectors import BaseDetector
    model = make_model().eval()
    assert isinstance(model, BaseDetector)
    _fixed_answers(model, 'panoptic')
    sample, _, _ = make_sample()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 32, 32), [sample], mode='predict')[0]
    pan = out.pred_panoptic_seg.sem_seg[0]
    assert pan.shape == (32, 32)
    assert (pan[:, :14] == 0 + 1000).all()  # thing: label + instance id * INSTANCE_OFFSET
    assert (pan[:, 18:] == 2).all()  # stuff: its label


def test_instance_and_semantic_decoding():
    model = make_model(test_task='instance').eval()
    _fixed_answers(model, 'instance')
    sample, _, _ = make_sample()
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 32, 32), [sample])[0]
    # the best class-0 instance is query 0's left half, the best class-1 one the right half
    pred = out.pred_instances
    for label, cols, other in ((0, slice(0, 14), slice(18, 32)),
                               (1, slice(18, 32), slice(0, 14))):
        scores = torch.where(pred.labels == label, pred.scores, torch.zeros_like(pred.scores))
        best = scores.argmax()
        assert scores[best] > 0.9
        assert pred.masks[best][:, cols].all() and not pred.masks[best][:, other].any()

    model = make_model(test_task='semantic').eval()
    _fixed_answers(model, 'semantic')
    with torch.no_grad():
        out = model.predict(torch.randn(1, 3, 32, 32), [make_sample()[0]])[0]
    seg = out.pred_sem_seg.sem_seg[0]
    assert (seg[:, :14] == 0).all() and (seg[:, 18:] == 2).all()


def test_multitask_decodes_every_head_into_its_own_output():
    """``test_task`` as a sequence: each head decoded by its own linear layer, the same as
    decoding it alone."""
    tasks = ('panoptic', 'instance', 'semantic')
    model = make_model(test_task=tasks).eval()
    single = {task: make_model(test_task=task).eval() for task in tasks}
    for task in tasks:
        _fixed_answers(model, task)
        _fixed_answers(single[task], task)
    inputs = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        out = model.predict(inputs, [make_sample()[0]])[0]
        alone = {task: single[task].predict(inputs, [make_sample()[0]])[0] for task in tasks}
    assert torch.equal(out.pred_panoptic_seg.sem_seg, alone['panoptic'].pred_panoptic_seg.sem_seg)
    assert torch.equal(out.pred_instances.masks, alone['instance'].pred_instances.masks)
    assert torch.equal(out.pred_instances.labels, alone['instance'].pred_instances.labels)
    assert torch.equal(out.pred_sem_seg.sem_seg, alone['semantic'].pred_sem_seg.sem_seg)
    with pytest.raises(KeyError, match='test_task'):
        make_model(tasks=('panoptic', 'semantic'), test_task=('panoptic', 'instance'))
    with pytest.raises(KeyError, match='test_task'):
        make_model(test_task=('semantic', 'semantic'))
