# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Label-only baselines: hand-computed values, agreement with mmseg's IoU maths on the
predictions they stand for, and the readers of the on-disk val layouts."""
import json
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from mmgen_vision.evaluation import (ade_pixel_counts, chance_miou, coco_panoptic_pixel_counts,
                                     constant_miou, label_pixel_counts, majority_miou,
                                     segmentation_baselines, voc_pixel_counts, whole_image_ciou,
                                     whole_image_miou)


def _miou_of(pred: np.ndarray, label: np.ndarray, num_classes: int) -> float:
    """mIoU (percent) as mmseg's IoUMetric computes it (classes without ground truth or
    prediction are NaN and skipped)."""
    import torch
    from mmseg.evaluation.metrics import IoUMetric
    inter, union, _, _ = IoUMetric.intersect_and_union(torch.from_numpy(pred),
                                                       torch.from_numpy(label), num_classes, 255)
    iou = (inter / union).numpy()
    return float(100 * np.nanmean(iou))


def test_chance_by_hand():
    # p = (3/4, 1/4), K = 2: IoU (3/8) / (7/8) = 3/7 and (1/8) / (5/8) = 1/5
    assert chance_miou(np.array([3., 1.])) == pytest.approx(100 * (3 / 7 + 1 / 5) / 2)


def test_chance_skips_absent_classes_but_draws_among_all():
    # the third class is absent: it is not averaged, but the random labels still use it (q=1/3)
    p, q = np.array([0.75, 0.25]), 1 / 3
    expected = 100 * np.mean((p * q) / (p + q - p * q))
    assert chance_miou(np.array([3., 1., 0.])) == pytest.approx(expected)


def test_chance_is_what_uniform_random_labels_score():
    rng = np.random.default_rng(0)
    label = rng.choice(4, size=(400, 400), p=[0.6, 0.25, 0.1, 0.05])
    pred = rng.integers(0, 4, size=label.shape)
    expected = chance_miou(label_pixel_counts([label], 4))
    assert _miou_of(pred, label, 4) == pytest.approx(expected, abs=0.3)


def test_constant_and_majority_match_the_iou_of_a_constant_prediction():
    label = np.zeros((10, 10), dtype=np.int64)
    label[:3] = 1
    label[3:4] = 2
    counts = label_pixel_counts([label], 3)
    np.testing.assert_array_equal(counts, [60, 30, 10])
    for constant in range(3):
        pred = np.full_like(label, constant)
        assert constant_miou(counts, constant) == pytest.approx(_miou_of(pred, label, 3))
    assert majority_miou(counts) == pytest.approx(100 * 0.6 / 3)
    base = segmentation_baselines(counts, background_index=2)
    assert base['all_background'] == pytest.approx(100 * 0.1 / 3)
    assert base['majority'] == majority_miou(counts) and base['chance'] == chance_miou(counts)
    assert 'all_background' not in segmentation_baselines(counts)


def test_counts_ignore_and_reduce_zero_label():
    label = np.array([[0, 1, 2], [255, 3, 8]])
    # ADE convention: 0 unlabelled, 1..K -> 0..K-1; 255 and labels beyond K dropped
    np.testing.assert_array_equal(label_pixel_counts([label], 3, reduce_zero_label=True),
                                  [1, 1, 1])
    np.testing.assert_array_equal(label_pixel_counts([label, label], 3), [2, 2, 2])


def test_empty_counts_are_refused():
    with pytest.raises(ValueError, match='positive sum'):
        chance_miou(np.zeros(3))


def test_ade_and_voc_readers(tmp_path):
    ade = tmp_path / 'ade'
    os.makedirs(ade / 'annotations' / 'validation')
    Image.fromarray(np.array([[0, 1], [2, 2]], np.uint8)).save(
        ade / 'annotations' / 'validation' / 'a.png')
    Image.fromarray(np.array([[3, 3], [3, 255]], np.uint8)).save(
        ade / 'annotations' / 'validation' / 'b.png')
    np.testing.assert_array_equal(ade_pixel_counts(str(ade), 3), [1, 2, 3])

    voc = tmp_path / 'voc'
    os.makedirs(voc / 'ImageSets' / 'Segmentation')
    os.makedirs(voc / 'SegmentationClass')
    (voc / 'ImageSets' / 'Segmentation' / 'val.txt').write_text('x\ny\n')
    Image.fromarray(np.array([[0, 0], [1, 255]], np.uint8)).save(voc / 'SegmentationClass/x.png')
    Image.fromarray(np.array([[0, 2], [2, 2]], np.uint8)).save(voc / 'SegmentationClass/y.png')
    Image.fromarray(np.array([[5, 5], [5, 5]], np.uint8)).save(voc / 'SegmentationClass/z.png')
    np.testing.assert_array_equal(voc_pixel_counts(str(voc), 3), [3, 1, 3])  # z is not in val


def test_coco_panoptic_reader(tmp_path):
    ann = tmp_path / 'annotations'
    os.makedirs(ann / 'panoptic_val2017')
    ids = np.array([[1, 1, 2], [3, 3, 3]])
    rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=-1).astype(np.uint8)
    Image.fromarray(rgb).save(ann / 'panoptic_val2017' / 'im.png')
    pan = dict(categories=[dict(id=7, name='a'), dict(id=9, name='b')],
               annotations=[dict(file_name='im.png', segments_info=[
                   dict(id=1, category_id=9), dict(id=2, category_id=7),
                   dict(id=3, category_id=9)])])
    (ann / 'panoptic_val2017.json').write_text(json.dumps(pan))
    # json category order: a (id 7) = label 0, b (id 9) = label 1
    np.testing.assert_array_equal(coco_panoptic_pixel_counts(str(tmp_path)), [1, 5])


def test_whole_image_ciou(tmp_path):
    folder = tmp_path / 'refcoco'
    os.makedirs(folder)
    inst = dict(images=[dict(id=1, width=10, height=10), dict(id=2, width=20, height=10)],
                annotations=[dict(id=11, area=10.), dict(id=12, area=50.)])
    (folder / 'instances.json').write_text(json.dumps(inst))
    refs = [dict(split='val', image_id=1, ann_id=11, sentences=[{}, {}]),
            dict(split='val', image_id=2, ann_id=12, sentences=[{}]),
            dict(split='train', image_id=2, ann_id=12, sentences=[{}])]
    with open(folder / 'refs(unc).p', 'wb') as f:
        pickle.dump(refs, f)
    # two sentences of 10 / 100 and one of 50 / 200: (20 + 50) / (200 + 200)
    assert whole_image_ciou(str(tmp_path)) == pytest.approx(100 * 70 / 400)
    # mIoU averages the sentences: (0.1 + 0.1 + 0.25) / 3
    assert whole_image_miou(str(tmp_path)) == pytest.approx(100 * 0.45 / 3)
    for baseline in (whole_image_ciou, whole_image_miou):
        with pytest.raises(ValueError, match='testA'):
            baseline(str(tmp_path), split='testA')
