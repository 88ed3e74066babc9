# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The top-down pose pipelines (mmpose's ``LoadImage``) read files through our reader: a bad
image raises ``ImageReadError`` naming the file (issue 13, part 2)."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmgen_vision.utils import ImageReadError, register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
POSE_CONFIGS = [
    ('configs/_base_/datasets/glid_coco_keypoints.py', 'train'),
    ('configs/_base_/datasets/glid_coco_keypoints.py', 'val'),
    ('configs/_base_/datasets/shapesworld_coco_keypoints.py', 'train'),
    ('configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose.py', 'sw_pose'),
    ('configs/glid/glid_toy_shapesworld-coco-pose.py', 'train'),
    ('configs/glid/glid_toy_shapesworld-coco-pose.py', 'val'),
    ('configs/_base_/datasets/painter_joint-8tasks.py', 'coco_pose'),
]


def _coco_person_root(root, content: bytes) -> str:
    """A COCO keypoints folder with one 32 x 32 image (``content``) holding one person."""
    (root / 'annotations').mkdir(parents=True)
    (root / 'train2017').mkdir()
    (root / 'train2017' / 'a.jpg').write_bytes(content)
    keypoints = []
    for k in range(17):
        keypoints += [8 + k % 4 * 4, 4 + k, 2]
    ann = dict(images=[dict(id=1, file_name='a.jpg', height=32, width=32)],
               annotations=[dict(id=1, image_id=1, category_id=1, bbox=[4, 2, 20, 26],
                                 area=520.0, iscrowd=0, num_keypoints=17, keypoints=keypoints)],
               categories=[dict(id=1, name='person')])
    for name in ('person_keypoints_train2017.json', 'person_keypoints_val2017.json'):
        (root / 'annotations' / name).write_text(json.dumps(ann))
    return str(root)


def _dataset_cfg(config: str, which: str, data_root: str) -> dict:
    cfg = Config.fromfile(osp.join(REPO_ROOT, config))
    if which in ('sw_pose', 'coco_pose'):  # Painter: the pose source of the joint training
        dataset = cfg[which].dataset.copy() if which == 'coco_pose' else cfg[which].copy()
    else:
        dataset = cfg[f'{which}_dataloader'].dataset.copy()
        dataset.pop('bbox_file', None)  # ground-truth boxes
    dataset.update(data_root=data_root, ann_file='annotations/person_keypoints_train2017.json',
                   data_prefix=dict(img='train2017/'), test_mode=False)
    return dataset


@pytest.mark.parametrize('config, which', POSE_CONFIGS)
def test_pose_pipelines_name_a_corrupt_image(tmp_path, config, which):
    from mmengine.registry import DATASETS
    register_all_modules(init_default_scope=False)
    good_img = cv2.imencode('.jpg', np.full((32, 32, 3), 128, np.uint8))[1].tobytes()
    good = DATASETS.build(_dataset_cfg(config, which, _coco_person_root(tmp_path / 'ok',
                                                                         good_img)))
    loader = good.pipeline.transforms[0]
    assert type(loader).__module__ == 'mmgen_vision.datasets.transforms.loading'
    loaded = loader(good.get_data_info(0))  # the good file decodes to its pixels
    assert loaded['img'].shape == (32, 32, 3) and abs(int(loaded['img'].mean()) - 128) <= 2
    assert good[0] is not None  # and the whole pipeline runs on it

    bad_root = _coco_person_root(tmp_path / 'bad', b'this is not a JPEG')
    bad = DATASETS.build(_dataset_cfg(config, which, bad_root))
    with pytest.raises(ImageReadError) as info:
        bad.pipeline(bad.get_data_info(0))  # the pipeline itself: no retry on another sample
    assert info.value.path == osp.join(bad_root, 'train2017', 'a.jpg')
    assert 'not an image' in str(info.value)


def test_pose_loader_keeps_mmpose_in_memory_images():
    from mmgen_vision.datasets.transforms import LoadImage
    img = np.zeros((5, 7, 3), np.uint8)
    results = LoadImage()(dict(img=img))
    assert results['img'] is img and results['img_shape'] == (5, 7)
    assert results['img_path'] is None
