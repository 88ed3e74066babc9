# Copyright (c) mmgen_vision contributors. All rights reserved.
"""RefCocoSegDataset and the referring transforms on ShapesWorld's RefCOCO layout."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
from pycocotools import mask as mask_utils

import mmgen_vision.datasets.refcoco_seg  # noqa: F401
import mmgen_vision.datasets.transforms.referring  # noqa: F401
from mmgen_vision.datasets.refcoco_seg import RefCocoSegDataset, center_square_fraction
from mmgen_vision.datasets.transforms.referring import (CenterCropSquare,
                                                        LoadReferringAnnotations,
                                                        decode_coco_mask)
from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils import register_all_modules

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='mmseg.PackSegInputs',
         meta_keys=('img_path', 'ori_shape', 'img_shape', 'text', 'ref_id', 'ann_id',
                    'sent_id')),
]


@pytest.fixture(scope='module', autouse=True)
def mmgen_vision_scope():
    # pipelines name our transforms without a prefix, as the configs do
    register_all_modules(init_default_scope=True)


def _dataset(root: str, **kwargs) -> RefCocoSegDataset:
    kwargs.setdefault('split', 'val')
    return RefCocoSegDataset(
        data_root=osp.join(root, 'refcoco'),
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        **kwargs)


@pytest.fixture(scope='module')
def refcoco_files(shapesworld_root):
    with open(osp.join(shapesworld_root, 'refcoco/refcoco/refs(unc).p'), 'rb') as f:
        refs = pickle.load(f)
    with open(osp.join(shapesworld_root, 'refcoco/refcoco/instances.json')) as f:
        instances = json.load(f)
    return refs, instances


def test_one_sample_per_expression_with_its_mask_and_text(shapesworld_root, refcoco_files):
    refs, instances = refcoco_files
    val_refs = [ref for ref in refs if ref['split'] == 'val']
    expected = [(ref, s) for ref in val_refs for s in ref['sentences']]
    dataset = _dataset(shapesworld_root, pipeline=PIPELINE)
    assert len(dataset) == len(expected) > 0
    anns = {ann['id']: ann for ann in instances['annotations']}
    images = {img['id']: img for img in instances['images']}
    for idx, (ref, sentence) in enumerate(expected):
        packed = dataset[idx]
        sample = packed['data_samples']
        meta = sample.metainfo
        assert meta['text'] == sentence['raw'].lower()
        assert (meta['ref_id'], meta['ann_id'], meta['sent_id']) == \
            (ref['ref_id'], ref['ann_id'], sentence['sent_id'])
        ann = anns[ref['ann_id']]
        image = images[ann['image_id']]
        assert osp.basename(meta['img_path']) == image['file_name']
        rle = dict(ann['segmentation'])
        rle['counts'] = rle['counts'].encode('ascii')
        expected_mask = mask_utils.decode(rle).astype(np.int64)
        gt = sample.gt_sem_seg.data[0].numpy()
        assert gt.shape == (image['height'], image['width'])
        np.testing.assert_array_equal(gt, expected_mask)
        assert tuple(packed['inputs'].shape) == (3, image['height'], image['width'])


def test_split_filter_and_errors(shapesworld_root, refcoco_files):
    refs, _ = refcoco_files
    train = _dataset(shapesworld_root, split='train')
    assert len(train) == sum(len(r['sentences']) for r in refs if r['split'] == 'train')
    # ShapesWorld's images are square: the centre crop keeps every object whole
    assert len(_dataset(shapesworld_root, min_center_crop_fraction=1.0)) == \
        len(_dataset(shapesworld_root))
    with pytest.raises(ValueError, match=r"no expression in split \"testA\".*\['train', 'val'\]"):
        _dataset(shapesworld_root, split='testA')
    with pytest.raises(FileNotFoundError, match='refs'):
        RefCocoSegDataset(
            data_root=osp.join(shapesworld_root, 'refcoco'),
            ann_file='refcoco/instances.json',
            split_file='refcoco/refs(umd).p',
            data_prefix=dict(img_path='train2014/'))
    with pytest.raises(ValueError, match='min_center_crop_fraction'):
        _dataset(shapesworld_root, min_center_crop_fraction=0.0)


def test_decode_coco_mask_formats():
    mask = np.zeros((5, 7), dtype=np.uint8)
    mask[1:4, 2:6] = 1
    compressed = mask_utils.encode(np.asfortranarray(mask))
    np.testing.assert_array_equal(decode_coco_mask(compressed, 5, 7), mask)
    as_str = dict(size=compressed['size'], counts=compressed['counts'].decode('ascii'))
    np.testing.assert_array_equal(decode_coco_mask(as_str, 5, 7), mask)
    # uncompressed RLE (column-major run lengths starting with background)
    flat = mask.flatten(order='F')
    runs, value, count = [], 0, 0
    for v in flat:
        if v == value:
            count += 1
        else:
            runs.append(count)
            value, count = v, 1
    runs.append(count)
    np.testing.assert_array_equal(decode_coco_mask(dict(size=[5, 7], counts=runs), 5, 7), mask)
    # a polygon covering the same pixels (pycocotools rasterises pixel centres)
    polygon = [[2.0, 1.0, 6.0, 1.0, 6.0, 4.0, 2.0, 4.0]]
    np.testing.assert_array_equal(decode_coco_mask(polygon, 5, 7),
                                  mask_utils.decode(mask_utils.merge(
                                      mask_utils.frPyObjects(polygon, 5, 7))))
    with pytest.raises(ValueError, match='decoded mask is 5x7 but the image is 6x7'):
        decode_coco_mask(compressed, 6, 7)
    with pytest.raises(TypeError, match='polygons or an RLE'):
        decode_coco_mask('nope', 5, 7)


def test_load_referring_annotations_union_and_ignore():
    a = np.zeros((4, 4), dtype=np.uint8)
    a[0, :2] = 1
    b = np.zeros((4, 4), dtype=np.uint8)
    b[3, 3] = 1
    ignored = np.zeros((4, 4), dtype=np.uint8)
    ignored[0:2, 0:2] = 1

    def rle(m):
        return mask_utils.encode(np.asfortranarray(m))

    results = dict(height=4, width=4, instances=[
        dict(mask=rle(a), ignore_flag=0), dict(mask=rle(b), ignore_flag=0),
        dict(mask=rle(ignored), ignore_flag=1)])
    out = TRANSFORMS.build(dict(type='LoadReferringAnnotations'))(results)
    expected = np.zeros((4, 4), dtype=np.uint8)
    expected[1, :2] = 255
    expected[0, :2] = 1
    expected[3, 3] = 1
    np.testing.assert_array_equal(out['gt_seg_map'], expected)
    assert out['seg_fields'] == ['gt_seg_map']
    with pytest.raises(KeyError, match='image size'):
        LoadReferringAnnotations()(dict(instances=results['instances']))


def test_center_crop_square():
    img = np.arange(4 * 7 * 3, dtype=np.uint8).reshape(4, 7, 3)
    seg = np.arange(4 * 7, dtype=np.uint8).reshape(4, 7)
    results = dict(img=img, gt_seg_map=seg, seg_fields=['gt_seg_map'], ori_shape=(4, 7),
                   img_shape=(4, 7))
    out = TRANSFORMS.build(dict(type='CenterCropSquare'))(results)
    np.testing.assert_array_equal(out['img'], img[:, 1:5])
    np.testing.assert_array_equal(out['gt_seg_map'], seg[:, 1:5])
    assert out['crop_bbox'] == (1, 0, 5, 4)
    assert out['ori_shape'] == (4, 4) and out['img_shape'] == (4, 4)
    # resizing touches the image only: the label stays at the crop's resolution
    tall = dict(img=img.transpose(1, 0, 2).copy(), gt_seg_map=seg.T.copy(),
                seg_fields=['gt_seg_map'])
    out = CenterCropSquare(size=8)(tall)
    assert out['img'].shape == (8, 8, 3) and out['gt_seg_map'].shape == (4, 4)
    assert out['ori_shape'] == (4, 4) and out['scale_factor'] == (2.0, 2.0)
    mask = np.zeros((4, 8), dtype=np.uint8)
    mask[0, 0:4] = 1  # 2 of its 4 pixels lie in columns 2..5
    assert center_square_fraction(mask) == 0.5
