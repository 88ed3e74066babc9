# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Referring expressions of your own from a simple JSON list (issue 15): the same samples as
RefCOCO's files give, through the RefCOCO pipelines and Peekaboo's referring config."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

from conftest import REPO_ROOT, latest_metrics, run_tool
from mmgen_vision.datasets import ReferringListDataset, RefCocoSegDataset
from mmgen_vision.datasets.transforms import (LoadImageFromFile, LoadReferringAnnotations,
                                               decode_coco_mask)
from mmgen_vision.utils import register_all_modules

PEEKABOO_REFCOCO = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py')
RENAME = {'circle': 'ball', 'square': 'crate', 'triangle': 'pyramid'}
NUM = 4


@pytest.fixture(scope='module')
def referring_list(shapesworld_root, tmp_path_factory):
    """4 ShapesWorld RefCOCO val expressions as a JSON list: masks (PNG) for the first two,
    polygons (traced outlines) for the others; the shape names renamed in the sentences."""
    register_all_modules()
    init_default_scope('mmgen_vision')
    ref_root = osp.join(shapesworld_root, 'refcoco')
    refcoco = RefCocoSegDataset(data_root=ref_root, ann_file='refcoco/instances.json',
                                split_file='refcoco/refs(unc).p',
                                data_prefix=dict(img_path='train2014/'), split='val')
    root = tmp_path_factory.mktemp('referring')
    os.makedirs(root / 'masks')
    entries, expected = [], []
    for index in range(NUM):
        info = refcoco.get_data_info(index)
        results = LoadReferringAnnotations()(LoadImageFromFile()(dict(info)))
        sentence = ' '.join(RENAME.get(w, w) for w in info['text'].split())
        entry = dict(image=osp.relpath(info['img_path'], str(root)), sentence=sentence)
        if index < 2:
            mask_name = f'masks/{index}.png'
            Image.fromarray((results['gt_seg_map'] == 1).astype(np.uint8) * 255).save(
                root / mask_name)
            entry['mask'] = mask_name
            expected.append(results['gt_seg_map'])
        else:  # the object's outline as polygons (ShapesWorld stores RLE)
            mask = (results['gt_seg_map'] == 1).astype(np.uint8)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            entry['polygon'] = [c.reshape(-1).astype(float).tolist() for c in contours
                                if len(c) >= 3]
            h, w = mask.shape
            polygon_mask = decode_coco_mask(entry['polygon'], h, w)
            inter = (polygon_mask & mask).sum()
            assert inter / (polygon_mask | mask).sum() > 0.7  # the outline is the object
            expected.append(polygon_mask)
        entries.append(entry)
    (root / 'refs.json').write_text(json.dumps(entries))
    return dict(root=str(root), expected=expected, sentences=[e['sentence'] for e in entries])


def test_json_list_gives_the_refcoco_samples(referring_list):
    dataset = ReferringListDataset(
        ann_file='refs.json', data_root=referring_list['root'],
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadReferringAnnotations')])
    assert len(dataset) == NUM and dataset.metainfo['classes'] == ('background', 'object')
    for index in range(NUM):
        sample = dataset[index]
        assert sample['text'] == referring_list['sentences'][index]
        np.testing.assert_array_equal(sample['gt_seg_map'], referring_list['expected'][index])


def test_bad_entries_name_the_entry(referring_list, tmp_path):
    (tmp_path / 'bad.json').write_text(json.dumps([dict(image='x.jpg', text='a ball')]))
    with pytest.raises(KeyError, match='entry 0: needs "image", "sentence"'):
        ReferringListDataset(ann_file=str(tmp_path / 'bad.json'), data_root=str(tmp_path))


def test_corrupt_image_or_mask_names_the_file(tmp_path):
    """The list's images and masks go through the project's reader (file + cause)."""
    from mmgen_vision.utils.image_io import ImageReadError
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / 'good.png')
    (tmp_path / 'truncated.png').write_bytes((tmp_path / 'good.png').read_bytes()[:20])
    (tmp_path / 'empty.png').write_bytes(b'')
    for image, mask, cause in (('truncated.png', 'good.png', r'truncated.png: truncated'),
                               ('good.png', 'empty.png', r'empty.png: empty')):
        (tmp_path / 'list.json').write_text(
            json.dumps([dict(image=image, sentence='a ball', mask=mask)]))
        with pytest.raises(ImageReadError, match=cause):
            ReferringListDataset(ann_file=str(tmp_path / 'list.json'), data_root=str(tmp_path))


@pytest.fixture(scope='module')
def tiny_sd(tmp_path_factory) -> str:
    from mmgen_vision.testing import build_tiny_stable_diffusion
    return build_tiny_stable_diffusion(str(tmp_path_factory.mktemp('tiny_sd')))


@pytest.mark.slow
def test_peekaboo_referring_on_the_json_list(referring_list, tiny_sd, tmp_path):
    """Plumbing with a tiny random Stable Diffusion (no SD weights here): the run completes
    and the referring metrics are valid percentages."""
    config = tmp_path / 'my_peekaboo_refs.py'
    config.write_text(
        f"_base_ = ['{PEEKABOO_REFCOCO}']\n"
        "test_dataloader = dict(dataset=dict(_delete_=True, type='ReferringListDataset', "
        f"data_root='{referring_list['root']}', ann_file='refs.json', "
        "pipeline={{_base_.test_pipeline}}))\n"
        f"model = dict(guide=dict(pretrained_path='{tiny_sd}'))\n")
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/test.py', str(config), 'none', '--work-dir', work_dir], timeout=600)
    metrics = latest_metrics(work_dir)
    for key in ('mIoU', 'cIoU', 'Prec@0.5'):
        assert 0.0 <= metrics[key] <= 100.0, (key, metrics)


@pytest.mark.slow
def test_peekaboo_semantic_with_own_classes_and_no_background(shapesworld_root, tiny_sd,
                                                               tmp_path):
    """docs/own_data.md's Peekaboo config: every class of yours is prompted and the rule is
    logged (plumbing with the tiny random Stable Diffusion)."""
    from own_data_utils import make_seg_folder
    data = make_seg_folder(shapesworld_root, str(tmp_path / 'seg'))
    config = tmp_path / 'my_peekaboo.py'
    config.write_text(
        f"_base_ = ['{REPO_ROOT}/configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py']\n"
        "classes = ('ball', 'crate', 'pyramid', 'heavens', 'floor')\n"
        f"model = dict(class_names=classes, background=None, "
        f"guide=dict(pretrained_path='{tiny_sd}'))\n"
        "test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(\n"
        "    _delete_=True, type='SegFolderDataset', data_root="
        f"'{data}', img_dir='images/val', indices=2,\n"
        "    mask_dir='masks/val', pipeline={{_base_.test_pipeline}}))\n")
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['tools/test.py', str(config), 'none', '--work-dir', work_dir])
    assert 'no background class: every class is prompted' in proc.stdout + proc.stderr
    assert 0.0 <= latest_metrics(work_dir)['mIoU'] <= 100.0
