# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter keypoint training pairs: the target painted into a canvas by ``PainterPairDataset``
decodes back (``KeypointCodec``) to the keypoints of its own top-down crop."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mmgen_vision.datasets  # noqa: F401
import mmgen_vision.models  # noqa: F401
from mmgen_vision.registry import DATASETS

init_default_scope('mmgen_vision')


def test_pose_pair_target_decodes_to_its_own_keypoints(shapesworld_root):
    """The toy pose recipe (64 x 48 crop painted at 48 x 48): the bottom half of the target
    canvas, resized back to the crop as the model's prediction is at test time, decodes to the
    bottom sample's keypoints (sub-pixel), the top half to the prompt sample's; the image halves
    are the two RGB crops."""
    pytest.importorskip('mmpose')
    crop = (48, 64)  # (w, h)
    load = [dict(type='mmgen_vision.LoadImage'), dict(type='mmpose.GetBBoxCenterScale'),
            dict(type='mmpose.TopdownAffine', input_size=crop)]
    pose = dict(type='mmpose.CocoDataset', data_root=osp.join(shapesworld_root, 'coco'),
                data_mode='topdown', ann_file='annotations/person_keypoints_train2017.json',
                data_prefix=dict(img='train2017/'), pipeline=load)
    ds = DATASETS.build(dict(type='PainterPairDataset', task='pose', img_size=(48, 48),
                             codec=dict(type='KeypointCodec', sigma=1.5, id_radius=1),
                             dataset=pose))
    assert len(ds) >= 4
    errors, crossed = [], []
    for index, other in ((0, 1), (2, 3), (3, 0)):
        item = ds.pair(index, other)
        target = item['data_samples'].target.permute(1, 2, 0).numpy()
        assert target.shape == (96, 48, 3)
        halves = {}
        for name, i, rows in (('top', other, slice(0, 48)), ('bottom', index, slice(48, 96))):
            raw = ds.dataset[i]
            kps = np.asarray(raw['transformed_keypoints'])[0, :, :2]
            visible = np.asarray(raw['keypoints_visible'])[0] > 0
            painted = cv2.resize(target[rows], crop, interpolation=cv2.INTER_NEAREST)
            decoded, _ = ds.codec.decode(torch.from_numpy(painted).permute(2, 0, 1).float())
            halves[name] = (decoded[0], kps, visible)
            errors.append(np.linalg.norm(decoded[0] - kps, axis=1)[visible])
            # the image half is the RGB crop of the same sample
            rgb = cv2.resize(raw['img'], (48, 48), interpolation=cv2.INTER_CUBIC)[..., ::-1]
            np.testing.assert_array_equal(item['inputs'][:, rows].permute(1, 2, 0).numpy(), rgb)
        # against the other half's keypoints the decoded joints are far off
        top_dec, top_kps, _ = halves['top']
        bottom_dec, bottom_kps, vis = halves['bottom']
        crossed.append(np.linalg.norm(bottom_dec - top_kps, axis=1)[vis].mean())
    errors = np.concatenate(errors)
    assert np.median(errors) < 1.5 and (errors < 2.5).mean() > 0.9, errors
    assert min(crossed) > 3 * np.median(errors), crossed
