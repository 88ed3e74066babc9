# Copyright (c) mmgen_vision contributors. All rights reserved.
"""ReferringSegMetric against values computed by hand."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmgen_vision.evaluation import ReferringSegMetric
from mmgen_vision.registry import METRICS


def _sample(pred, gt) -> SegDataSample:
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=torch.tensor(pred)[None])
    sample.gt_sem_seg = PixelData(data=torch.tensor(gt)[None])
    return sample


def _hand_samples() -> list:
    return [
        # gt object {(0,0), (0,1), (1,2)}, pred {(0,0), (1,0), (1,2)} once the ignored (1,1) is
        # dropped: I = 2, U = 4, IoU 0.5
        _sample([[1, 0, 0], [1, 1, 1]], [[1, 1, 0], [0, 255, 1]]),
        # I = 3, U = 4, IoU 0.75
        _sample([[1, 1], [1, 0]], [[1, 1], [1, 1]]),
        # disjoint: I = 0, U = 2, IoU 0
        _sample([[0, 1], [0, 0]], [[1, 0], [0, 0]]),
    ]


def _evaluate(samples, **kwargs) -> dict:
    evaluator = Evaluator(ReferringSegMetric(**kwargs))
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def test_hand_computed_values():
    metrics = _evaluate(_hand_samples())
    assert metrics['mIoU'] == pytest.approx(100 * (0.5 + 0.75 + 0.0) / 3)
    assert metrics['cIoU'] == pytest.approx(100 * (2 + 3 + 0) / (4 + 4 + 2))
    assert metrics['Prec@0.5'] == pytest.approx(100 * 2 / 3)  # IoU >= 0.5 counts
    assert metrics['Prec@0.7'] == pytest.approx(100 / 3)
    assert metrics['Prec@0.9'] == 0.0
    assert list(metrics) == ['mIoU', 'cIoU', 'Prec@0.5', 'Prec@0.7', 'Prec@0.9']


def test_built_from_registry_with_custom_thresholds():
    metric = METRICS.build(dict(type='ReferringSegMetric', iou_thrs=(0.25, 0.75)))
    evaluator = Evaluator(metric)
    evaluator.process(_hand_samples())
    metrics = evaluator.evaluate(3)
    assert set(metrics) == {'mIoU', 'cIoU', 'Prec@0.25', 'Prec@0.75'}
    assert metrics['Prec@0.25'] == pytest.approx(100 * 2 / 3)
    assert metrics['Prec@0.75'] == pytest.approx(100 / 3)


def test_other_labels_are_background_and_empty_pairs_are_correct():
    samples = [
        # label 2 is not the referred object: I = 1, U = 1
        _sample([[1, 2], [2, 2]], [[1, 0], [0, 0]]),
        # nothing referred and nothing predicted: IoU 1, adds nothing to cIoU
        _sample([[0, 0], [0, 0]], [[0, 0], [0, 255]]),
        # nothing referred but something predicted: IoU 0
        _sample([[0, 1], [0, 0]], [[0, 0], [0, 0]]),
    ]
    metrics = _evaluate(samples)
    assert metrics['mIoU'] == pytest.approx(100 * 2 / 3)
    assert metrics['cIoU'] == pytest.approx(100 * 1 / 2)
    assert metrics['Prec@0.9'] == pytest.approx(100 * 2 / 3)


def test_size_mismatch_is_an_error():
    with pytest.raises(ValueError, match='differ in size'):
        _evaluate([_sample([[1, 0]], [[1], [0]])])


def test_bad_threshold():
    with pytest.raises(ValueError, match='iou_thrs'):
        ReferringSegMetric(iou_thrs=(50, ))
