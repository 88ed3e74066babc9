# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/dataset_converters/coco_object.py on ShapesWorld's COCO instances: the COCO-Object masks
must equal ShapesWorld's VOC labels (background + the five things, same order) outside VOC's
1-pixel void band."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import run_tool

pytest.importorskip('pycocotools')


def test_coco_object_masks_match_shapesworld_voc_labels(shapesworld_root, tmp_path):
    coco = osp.join(shapesworld_root, 'coco')
    out = str(tmp_path / 'coco_object')
    proc = run_tool(['tools/dataset_converters/coco_object.py', coco, '--splits', 'val2017',
                     '--out-dir', out])
    assert 'val2017: 16 masks' in proc.stdout
    with open(osp.join(out, 'classes.txt')) as f:
        assert f.read().split('\n')[:6] == [
            'background', 'circle', 'square', 'triangle', 'star', 'person']
    with open(osp.join(coco, 'annotations', 'instances_val2017.json')) as f:
        images = json.load(f)['images']
    written = sorted(glob.glob(osp.join(out, 'val2017', '*.png')))
    assert len(written) == len(images) == 16
    voc = osp.join(shapesworld_root, 'voc', 'VOCdevkit', 'VOC2012', 'SegmentationClass')
    things = 0
    for info in images:
        stem = osp.splitext(info['file_name'])[0]
        mask = np.asarray(Image.open(osp.join(out, 'val2017', f'{stem}.png')))
        assert mask.dtype == np.uint8 and mask.shape == (info['height'], info['width'])
        label = np.asarray(Image.open(osp.join(voc, f'2012_{info["id"]:06d}.png')))
        valid = label != 255
        np.testing.assert_array_equal(mask[valid], label[valid])
        things += int((mask > 0).sum())
    assert things > 0


def test_coco_object_names_a_missing_split(shapesworld_root, tmp_path):
    proc = run_tool(['tools/dataset_converters/coco_object.py',
                     osp.join(shapesworld_root, 'coco'), '--splits', 'test2017', '--out-dir',
                     str(tmp_path / 'o')], check=False)
    assert proc.returncode != 0
    assert 'instances_test2017.json' in proc.stderr
