# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The ShapesWorld dataset base configs with the stock OpenMMLab datasets and metrics.

Each base config under ``configs/_base_/datasets/shapesworld_*.py`` is loaded as a user would,
pointed at a generated ShapesWorld, and its datasets are built through ``mmgen_vision``'s
registry. The samples its pipelines produce are checked against the files, and its stock
evaluator, fed the ground truth back as the prediction, must give a perfect score (while a
corrupted copy must score clearly lower): this proves that the files, the ids, the class lists
of the config and the metric plumbing agree.
"""
import copy
import json
import os.path as osp
import pickle
import random
from collections import defaultdict
from typing import Optional

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData, PixelData
from PIL import Image
from pycocotools import mask as mask_utils

from mmgen_vision.datasets.shapesworld import SHAPESWORLD_META
from mmgen_vision.utils import install_panopticapi_fallback
from mmgen_vision.registry import DATASETS
from mmgen_vision.utils import register_all_modules

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', '_base_', 'datasets')
#: base config name -> the format's data root inside a generated ShapesWorld
FORMAT_ROOTS = {
    'shapesworld_coco_instance': 'coco',
    'shapesworld_coco_panoptic': 'coco',
    'shapesworld_coco_keypoints': 'coco',
    'shapesworld_voc': 'voc/VOCdevkit/VOC2012',
    'shapesworld_refcoco': 'refcoco',
}
THING_CLASSES = tuple(SHAPESWORLD_META['thing_classes'])
CLASSES = tuple(SHAPESWORLD_META['classes'])
VOC_CLASSES = tuple(SHAPESWORLD_META['voc_classes'])
IGNORE_INDEX = SHAPESWORLD_META['ignore_index']


@pytest.fixture(scope='module', autouse=True)
def mmgen_vision_scope():
    register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def seeded():
    """Fix the random draws of the training pipelines (resize, flip, crop, box jitter)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


# ----------------------------------------------------------------------------- helpers


def _repoint(obj, old: str, new: str):
    """Replace the prefix ``old`` of every string in a nested config by ``new``."""
    if isinstance(obj, dict):
        return {key: _repoint(value, old, new) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_repoint(value, old, new) for value in obj)
    if isinstance(obj, str) and obj.startswith(old):
        return new + obj[len(old):]
    return obj


def load_config(name: str, shapesworld_root: str) -> Config:
    """Load a base config and point every path under its ``data_root`` (dataloaders and
    evaluator files) at the generated ShapesWorld."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    old_root = cfg.data_root
    new_root = osp.join(shapesworld_root, FORMAT_ROOTS[name])
    if old_root.endswith('/'):
        new_root += '/'
    return Config(_repoint(cfg.to_dict(), old_root, new_root))


def build_dataset(cfg: Config, split: str):
    return DATASETS.build(copy.deepcopy(cfg[f'{split}_dataloader']['dataset']))


def evaluate(cfg: Config, dataset, data_samples: list) -> dict:
    """Run the config's stock evaluator on ``data_samples`` (with their predictions)."""
    evaluator = Evaluator(copy.deepcopy(cfg.val_evaluator))
    evaluator.dataset_meta = dataset.metainfo
    evaluator.process(data_samples)
    return evaluator.evaluate(len(data_samples))


def packed_samples(dataset) -> list:
    return [dataset[i]['data_samples'] for i in range(len(dataset))]


def load_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def decode_rle(segmentation: dict) -> np.ndarray:
    rle = dict(segmentation, counts=segmentation['counts'].encode('ascii'))
    return mask_utils.decode(rle).astype(bool)


def shift_masks(masks: torch.Tensor) -> torch.Tensor:
    """Move each (N, H, W) mask by half the size of its tight box (the corrupted prediction)."""
    shifted = []
    for mask in masks:
        rows, cols = torch.nonzero(mask, as_tuple=True)
        dy = max(1, int(rows.max() - rows.min() + 1) // 2)
        dx = max(1, int(cols.max() - cols.min() + 1) // 2)
        shifted.append(torch.roll(mask, shifts=(dy, dx), dims=(0, 1)))
    return torch.stack(shifted) if shifted else masks.clone()


# ----------------------------------------------------------------------------- panopticapi


@pytest.fixture
def panopticapi():
    """mmdet's panoptic loader and metric import ``panopticapi`` (not on PyPI): importing
    mmgen_vision installs :mod:`mmgen_vision.utils.panoptic`'s fallback when it is missing."""
    import mmdet.evaluation.metrics.coco_panoptic_metric as panoptic_metric
    assert panoptic_metric.panopticapi is not None
    return 'fallback' if install_panopticapi_fallback() else 'panopticapi'


# ----------------------------------------------------------------------------- all configs


@pytest.mark.parametrize('name', sorted(FORMAT_ROOTS))
def test_config_layout_and_datasets_build(name, shapesworld_root, panopticapi):
    raw = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    assert raw.data_root.startswith('data/shapesworld/') and not osp.isabs(raw.data_root)
    assert raw.test_dataloader == raw.val_dataloader
    assert raw.test_evaluator == raw.val_evaluator
    for split in ('train', 'val'):
        assert raw[f'{split}_dataloader']['dataset']['type'] == raw.dataset_type
    cfg = load_config(name, shapesworld_root)
    train, val = build_dataset(cfg, 'train'), build_dataset(cfg, 'val')
    assert len(train) > len(val) > 0
    for dataset in (train, val):
        packed = dataset[0]
        assert packed['inputs'].ndim == 3 and packed['inputs'].shape[0] == 3
        assert osp.isfile(packed['data_samples'].img_path)


# ----------------------------------------------------------------------------- COCO instances


def test_coco_instance_samples_match_the_json(shapesworld_root):
    cfg = load_config('shapesworld_coco_instance', shapesworld_root)
    assert cfg.val_dataloader.dataset.metainfo['classes'] == THING_CLASSES
    name_of, anns_of = {}, defaultdict(list)
    for split in ('train', 'val'):
        dataset_cfg = cfg[f'{split}_dataloader'].dataset
        raw = load_json(osp.join(dataset_cfg.data_root, dataset_cfg.ann_file))
        name_of.update({c['id']: c['name'] for c in raw['categories']})
        for ann in raw['annotations']:
            anns_of[ann['image_id']].append(ann)

    # val: annotations loaded at the original size, exactly as in the json
    val = build_dataset(cfg, 'val')
    sample = val[0]['data_samples']
    anns = anns_of[sample.img_id]
    gt = sample.gt_instances
    assert len(gt) == len(anns) > 0
    expected_boxes = [[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)]
    np.testing.assert_array_equal(gt.bboxes.tensor.numpy(), np.array(expected_boxes, np.float32))
    assert gt.labels.tolist() == [THING_CLASSES.index(name_of[a['category_id']]) for a in anns]
    for mask, ann in zip(gt.masks.masks, anns):
        np.testing.assert_array_equal(mask.astype(bool), decode_rle(ann['segmentation']))
        assert mask.sum() == ann['area']

    # train: every annotation survives resizing and flipping, boxes and masks move with the
    # image (eight samples: both outcomes of the flip occur with the fixed seed)
    train = build_dataset(cfg, 'train')
    flips = set()
    for index in range(8):
        sample = train[index]['data_samples']
        anns = anns_of[sample.img_id]
        gt = sample.gt_instances
        assert len(gt) == len(anns) > 0
        assert gt.masks.masks.shape[1:] == sample.img_shape
        sx, sy = sample.scale_factor
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)],
                         np.float32) * np.array([sx, sy, sx, sy], np.float32)
        flips.add(sample.flip)
        if sample.flip:
            assert sample.flip_direction == 'horizontal'
            width = sample.img_shape[1]
            boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]],
                             1)
        np.testing.assert_allclose(gt.bboxes.tensor.numpy(), boxes, atol=1e-3)
        for box, mask in zip(boxes, gt.masks.masks):
            rows, cols = np.nonzero(mask)
            # the resized mask stays within a pixel of the resized box
            assert cols.min() >= box[0] - 1 and cols.max() + 1 <= box[2] + 1
            assert rows.min() >= box[1] - 1 and rows.max() + 1 <= box[3] + 1
    assert flips == {True, False}


def _with_det_prediction(sample, corrupt: Optional[str] = None):
    """mmdet's instance prediction copied from the ground truth; ``corrupt='shift'`` moves
    boxes and masks by half their size, ``corrupt='labels'`` gives every object a wrong class."""
    gt = sample.gt_instances
    bboxes = gt.bboxes.tensor.clone()
    masks = torch.from_numpy(gt.masks.masks.astype(bool))
    labels = gt.labels.clone()
    if corrupt == 'shift':
        half = (bboxes[:, 2:] - bboxes[:, :2]) / 2
        bboxes = bboxes + half.repeat(1, 2)
        masks = shift_masks(masks)
    elif corrupt == 'labels':
        labels = (labels + 1) % len(THING_CLASSES)
    out = sample.clone()
    out.pred_instances = InstanceData(
        bboxes=bboxes, scores=torch.ones(len(gt)), labels=labels, masks=masks)
    return out


def test_coco_instance_metric_scores_the_ground_truth_perfectly(shapesworld_root):
    cfg = load_config('shapesworld_coco_instance', shapesworld_root)
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    val = build_dataset(cfg, 'val')
    samples = packed_samples(val)
    assert len(samples) == len(load_json(cfg.val_evaluator.ann_file)['images'])

    perfect = evaluate(cfg, val, [_with_det_prediction(s) for s in samples])
    assert perfect['coco/bbox_mAP'] == pytest.approx(1.0)
    assert perfect['coco/segm_mAP'] == pytest.approx(1.0)

    for corrupt in ('shift', 'labels'):
        wrong = evaluate(cfg, val, [_with_det_prediction(s, corrupt) for s in samples])
        assert wrong['coco/bbox_mAP'] < 0.5, corrupt
        assert wrong['coco/segm_mAP'] < 0.5, corrupt


# ----------------------------------------------------------------------------- COCO panoptic


def test_coco_panoptic_samples_cover_every_pixel(shapesworld_root, panopticapi):
    cfg = load_config('shapesworld_coco_panoptic', shapesworld_root)
    meta = cfg.val_dataloader.dataset.metainfo
    assert meta['classes'] == CLASSES and meta['thing_classes'] == THING_CLASSES
    raw = load_json(cfg.val_evaluator.ann_file)
    isthing = {c['id']: c['isthing'] for c in raw['categories']}
    for split in ('val', 'train'):
        dataset = build_dataset(cfg, split)
        sample = dataset[0]['data_samples']
        sem = sample.gt_sem_seg.sem_seg[0].numpy()
        assert sem.shape == sample.img_shape
        # every pixel belongs to a segment: no VOID (255) left in the semantic map
        assert set(np.unique(sem).tolist()) <= set(range(len(CLASSES)))
        masks = sample.gt_instances.masks.masks.astype(bool)
        labels = sample.gt_instances.labels.numpy()
        # things are disjoint, their union is exactly the thing pixels, each has its class
        assert (masks.sum(0) <= 1).all()
        np.testing.assert_array_equal(masks.any(0), sem < len(THING_CLASSES))
        for mask, label in zip(masks, labels):
            assert label < len(THING_CLASSES) and (sem[mask] == label).all()
        if split == 'val':
            segments = next(a for a in raw['annotations']
                            if a['image_id'] == sample.img_id)['segments_info']
            assert len(masks) == sum(isthing[s['category_id']] for s in segments) > 0
            semseg_png = osp.join(
                osp.dirname(cfg.val_evaluator.seg_prefix.rstrip('/')), 'panoptic_semseg_val2017',
                osp.basename(sample.img_path).replace('.jpg', '.png'))
            np.testing.assert_array_equal(sem, np.array(Image.open(semseg_png)))


def _with_panoptic_prediction(sample, offset: int, corrupt: bool = False):
    """mmdet's panoptic prediction: ``label + instance_id * INSTANCE_OFFSET`` (stuff: id 0)."""
    pan = sample.gt_sem_seg.sem_seg[0].clone().long()
    gt = sample.gt_instances
    for index, (mask, label) in enumerate(zip(gt.masks.masks, gt.labels.tolist())):
        if corrupt:  # a wrong thing class for every object
            label = (label + 1) % len(THING_CLASSES)
        pan[torch.from_numpy(mask.astype(bool))] = label + (index + 1) * offset
    out = sample.clone()
    out.pred_panoptic_seg = PixelData(sem_seg=pan[None])
    return out


def test_coco_panoptic_metric_scores_the_ground_truth_perfectly(shapesworld_root, panopticapi):
    from mmdet.evaluation.functional import INSTANCE_OFFSET
    cfg = load_config('shapesworld_coco_panoptic', shapesworld_root)
    val = build_dataset(cfg, 'val')
    samples = packed_samples(val)
    assert len(samples) == len(load_json(cfg.val_evaluator.ann_file)['images'])

    perfect = evaluate(cfg, val, [_with_panoptic_prediction(s, INSTANCE_OFFSET) for s in samples])
    for key in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'):
        assert perfect[f'coco_panoptic/{key}'] == pytest.approx(100.0), key

    wrong = evaluate(cfg, val,
                     [_with_panoptic_prediction(s, INSTANCE_OFFSET, corrupt=True) for s in samples])
    assert wrong['coco_panoptic/PQ_th'] == pytest.approx(0.0)
    assert wrong['coco_panoptic/PQ_st'] == pytest.approx(100.0)
    # only the two stuff classes of the seven are still right
    assert wrong['coco_panoptic/PQ'] == pytest.approx(100.0 * 2 / 7)


# ----------------------------------------------------------------------------- COCO keypoints


def test_coco_keypoints_samples(shapesworld_root):
    cfg = load_config('shapesworld_coco_keypoints', shapesworld_root)
    codec = cfg.codec
    raw = load_json(cfg.val_evaluator.ann_file)
    anns = {a['id']: a for a in raw['annotations']}

    val = build_dataset(cfg, 'val')
    assert len(val) == len(anns) > 0  # one sample per person
    sample = val[0]['data_samples']
    ann = anns[sample.id]
    expected = np.array(ann['keypoints'], np.float32).reshape(-1, 3)
    keypoints = sample.gt_instances.keypoints[0]
    np.testing.assert_allclose(keypoints, expected[:, :2])
    np.testing.assert_array_equal(sample.gt_instances.keypoints_visible[0] > 0, expected[:, 2] > 0)
    height, width = sample.ori_shape
    assert ((keypoints >= 0) & (keypoints < [width, height])).all()
    x, y, w, h = ann['bbox']
    np.testing.assert_allclose(sample.gt_instances.bboxes[0], [x, y, x + w, y + h])

    # train: the heatmap targets, read before packing (which drops the warped keypoints)
    train = build_dataset(cfg, 'train')
    results = train.get_data_info(0)
    for transform in train.pipeline.transforms[:-1]:
        results = transform(results)
    heatmaps, weights = results['heatmaps'], results['keypoint_weights'][0]
    transformed = results['transformed_keypoints'][0]
    assert heatmaps.shape == (len(SHAPESWORLD_META['keypoint_names']), ) + \
        tuple(codec['heatmap_size'][::-1])
    assert weights.sum() > 0
    # each kept keypoint lies in the input crop and peaks (value 1) at its heatmap cell
    stride = np.array(codec['input_size'], np.float32) / np.array(codec['heatmap_size'])
    for heatmap, weight, point in zip(heatmaps, weights, transformed):
        if weight == 0:
            continue
        assert ((point >= 0) & (point < codec['input_size'])).all()
        col, row = (point / stride + 0.5).astype(int)
        assert heatmap[row, col] == pytest.approx(1.0)
        assert heatmap.max() == pytest.approx(1.0)
    packed = train.pipeline.transforms[-1](results)
    assert tuple(packed['inputs'].shape) == (3, ) + tuple(codec['input_size'][::-1])


def _with_pose_prediction(sample, corrupt: bool = False):
    gt = sample.gt_instances
    keypoints = gt.keypoints.copy()
    if corrupt:
        x1, y1, x2, y2 = gt.bboxes[0]
        keypoints += np.array([(x2 - x1) / 2, (y2 - y1) / 2], np.float32)
    out = sample.clone()
    out.pred_instances = InstanceData(
        keypoints=keypoints, keypoint_scores=np.ones(keypoints.shape[:2], np.float32))
    return out


def test_coco_keypoints_metric_scores_the_ground_truth_perfectly(shapesworld_root):
    cfg = load_config('shapesworld_coco_keypoints', shapesworld_root)
    val = build_dataset(cfg, 'val')
    samples = packed_samples(val)

    perfect = evaluate(cfg, val, [_with_pose_prediction(s) for s in samples])
    assert perfect['coco/AP'] == pytest.approx(1.0)
    assert perfect['coco/AR'] == pytest.approx(1.0)

    shifted = evaluate(cfg, val, [_with_pose_prediction(s, corrupt=True) for s in samples])
    assert shifted['coco/AP'] < 0.5


# ----------------------------------------------------------------------------- PASCAL VOC


def test_voc_samples_match_the_label_pngs(shapesworld_root):
    cfg = load_config('shapesworld_voc', shapesworld_root)
    assert cfg.val_dataloader.dataset.metainfo['classes'] == VOC_CLASSES
    allowed = set(range(len(VOC_CLASSES))) | {IGNORE_INDEX}
    val = build_dataset(cfg, 'val')
    with open(osp.join(cfg.val_dataloader.dataset.data_root,
                       cfg.val_dataloader.dataset.ann_file)) as f:
        stems = f.read().split()
    assert [osp.basename(val.get_data_info(i)['img_path'])[:-4] for i in range(len(val))] == stems
    sample = val[0]['data_samples']
    label = sample.gt_sem_seg.data[0].numpy()
    with Image.open(sample.seg_map_path) as png:
        assert png.mode == 'P'
        np.testing.assert_array_equal(label, np.array(png))
    values = set(np.unique(label).tolist())
    assert values <= allowed
    assert 0 in values and len(values & set(range(1, len(VOC_CLASSES)))) > 0
    # the void band lies on object outlines: every 255 pixel has a thing 4-neighbour
    padded = np.pad(label, 1, constant_values=0)
    thing = (padded > 0) & (padded != IGNORE_INDEX)
    near_thing = thing[:-2, 1:-1] | thing[2:, 1:-1] | thing[1:-1, :-2] | thing[1:-1, 2:]
    assert (label == IGNORE_INDEX).any() and near_thing[label == IGNORE_INDEX].all()

    train = build_dataset(cfg, 'train')
    sample = train[0]['data_samples']
    assert set(np.unique(sample.gt_sem_seg.data.numpy()).tolist()) <= allowed
    assert tuple(sample.gt_sem_seg.shape) == tuple(cfg.crop_size)


def _with_seg_prediction(sample, corrupt: bool = False):
    pred = sample.gt_sem_seg.data.clone()
    pred[pred == IGNORE_INDEX] = 0
    if corrupt:  # cyclic permutation of the thing labels 1..5
        things = pred > 0
        pred[things] = pred[things] % (len(VOC_CLASSES) - 1) + 1
    out = sample.clone()
    out.pred_sem_seg = PixelData(data=pred)
    return out


def test_voc_iou_metric_scores_the_ground_truth_perfectly(shapesworld_root):
    cfg = load_config('shapesworld_voc', shapesworld_root)
    val = build_dataset(cfg, 'val')
    samples = packed_samples(val)
    perfect = evaluate(cfg, val, [_with_seg_prediction(s) for s in samples])
    assert perfect['mIoU'] == pytest.approx(100.0)
    wrong = evaluate(cfg, val, [_with_seg_prediction(s, corrupt=True) for s in samples])
    assert wrong['mIoU'] < 50.0


# ----------------------------------------------------------------------------- RefCOCO


def test_refcoco_samples_pair_expressions_and_masks(shapesworld_root):
    cfg = load_config('shapesworld_refcoco', shapesworld_root)
    dataset_cfg = cfg.val_dataloader.dataset
    with open(osp.join(dataset_cfg.data_root, dataset_cfg.split_file), 'rb') as f:
        refs = [r for r in pickle.load(f) if r['split'] == dataset_cfg.split]
    instances = load_json(osp.join(dataset_cfg.data_root, dataset_cfg.ann_file))
    anns = {a['id']: a for a in instances['annotations']}
    val = build_dataset(cfg, 'val')
    assert len(val) == len({r['image_id'] for r in refs})
    for index in range(len(val)):
        sample = val[index]['data_samples']
        expected = [(sentence['raw'].lower(), decode_rle(anns[ref['ann_id']]['segmentation']))
                    for ref in refs if ref['image_id'] == sample.img_id
                    for sentence in ref['sentences']]
        assert sample.text == [text for text, _ in expected]
        masks = sample.gt_instances.masks.masks.astype(bool)
        assert masks.shape == (len(expected), ) + tuple(sample.ori_shape)
        for mask, (_, expected_mask) in zip(masks, expected):
            np.testing.assert_array_equal(mask, expected_mask)
        # the copy RefSegMetric reads
        np.testing.assert_array_equal(sample.gt_masks.masks, sample.gt_instances.masks.masks)


def _with_ref_prediction(sample, corrupt: bool = False):
    masks = torch.from_numpy(sample.gt_instances.masks.masks.astype(bool))
    out = sample.clone()
    out.pred_instances = InstanceData(masks=shift_masks(masks) if corrupt else masks)
    return out


def test_refcoco_metric_scores_the_ground_truth_perfectly(shapesworld_root):
    cfg = load_config('shapesworld_refcoco', shapesworld_root)
    val = build_dataset(cfg, 'val')
    samples = packed_samples(val)
    perfect = evaluate(cfg, val, [_with_ref_prediction(s) for s in samples])
    assert float(perfect['cIoU']) == pytest.approx(100.0)
    assert float(perfect['mIoU']) == pytest.approx(100.0)
    wrong = evaluate(cfg, val, [_with_ref_prediction(s, corrupt=True) for s in samples])
    assert float(wrong['cIoU']) < 50.0 and float(wrong['mIoU']) < 50.0
