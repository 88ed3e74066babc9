# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The toy Painter's loss keeps its sparse training pairs (keypoints, instances).

``PainterLoss`` drops a sample whose visible target pixels sum to under ``min_visible_sum``
(the release's near-black-target rule, 300 on its 896 x 448 canvas). That absolute sum does not
scale down: on the toy's 96 x 48 canvas it dropped nearly every keypoint pair and most instance
pairs, and neither task was learnt. The toy configs scale the threshold to their canvas (set
in the 4-task toy config, which every toy Painter config, the pose one included, inherits)."""
import os.path as osp
import random

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmgen_vision.datasets  # noqa: F401
import mmgen_vision.models  # noqa: F401
from conftest import REPO_ROOT
from mmgen_vision.models.painter.painter_head import unpatchify
from mmgen_vision.registry import DATASETS, MODELS

init_default_scope('mmgen_vision')
POSE_CONFIG = osp.join(REPO_ROOT, 'configs', 'painter',
                       'painter_vit-tiny-p4_toy-shapesworld_pose.py')


def _kept_fraction(model, loss, dataset, num_masks=4):
    """Share of (pair, training mask) draws whose loss weight survives the sample drop."""
    data = model.data_preprocessor(pseudo_collate([dataset[i] for i in range(len(dataset))]),
                                   True)['inputs']
    tgts, valid = data['tgts'], data['valid']
    b, c, h, w = tgts.shape
    patch = model.patch_size
    kept = []
    for _ in range(num_masks):
        mask = torch.stack(list(model.mask_generator(b, random))).float()
        pixel_mask = unpatchify(mask.reshape(b, -1, 1).expand(-1, -1, patch**2 * c), patch,
                                (h // patch, w // patch), c)
        weights = loss.sample_weights(tgts, pixel_mask, valid)
        kept.append(weights.flatten(1).amax(1) > 0)
    return torch.cat(kept).float().mean().item()


def test_toy_loss_keeps_keypoint_and_instance_pairs(shapesworld_root):
    pytest.importorskip('mmpose')
    random.seed(0)
    cfg = Config.fromfile(POSE_CONFIG)
    model = MODELS.build(cfg.model)
    release_loss = MODELS.build(dict(type='PainterLoss', beta=0.01))
    assert release_loss.min_visible_sum == 300.
    coco = osp.join(shapesworld_root, 'coco')
    pose = [d for d in cfg.train_dataloader.dataset.datasets if d.task == 'pose'][0]
    inst = [d for d in cfg.train_dataloader.dataset.datasets if d.task == 'instance'][0]
    pose.dataset.update(data_root=coco, indices=16)
    inst.dataset.update(data_root=coco, indices=16)
    for cfg_ds, min_kept in ((pose, 0.95), (inst, 0.85)):
        ds = DATASETS.build(cfg_ds)
        toy = _kept_fraction(model, model.loss_module, ds)
        release = _kept_fraction(model, release_loss, ds)
        assert toy >= min_kept, (cfg_ds.task, toy)
        # the release's absolute threshold on this canvas drops most of them
        assert release < 0.5, (cfg_ds.task, release)
