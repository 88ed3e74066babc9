# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID pose answers (ViTPose-style heatmaps): per keypoint query an embedding f_k from one
linear layer, ``heatmap_k = f_k . f_b``; trained and decoded with mmpose's codec and loss."""
from typing import Dict, List

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from mmpose.registry import KEYPOINT_CODECS

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GLIDPoseHead(BaseModule):
    """The task-specific linear layer of pose estimation, its loss and its decoding.

    Args:
        embed_dims (int): Width C.
        codec (dict): mmpose heatmap codec config (e.g. ``MSRAHeatmap``); its heatmap size must
            be the f_b size (input / 4).
        loss (dict): Heatmap loss (``mmpose.KeypointMSELoss`` with target weights).
        deep_supervision (bool): Apply the loss to every decoder layer. Defaults to True.
        init_std (float): Std of the normal init of the linear layer's weight (bias 0), small
            as for the last layer of mmpose's heatmap heads: with the default ``nn.Linear``
            init, ``f_k . f_b`` starts at a std of about ``sqrt(C / 3)`` (4.6 for C = 64)
            against targets in [0, 1], and the first steps only shrink it towards the
            all-zero heatmap. Defaults to 0.001.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, embed_dims: int, codec: dict,
                 loss: dict = dict(type='mmpose.KeypointMSELoss', use_target_weight=True),
                 deep_supervision: bool = True, init_std: float = 0.001,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(embed_dims, embed_dims)
        self.init_std = init_std
        codec = dict(codec)
        if codec['type'].startswith('mmpose.'):
            codec['type'] = codec['type'][len('mmpose.'):]
        self.codec = KEYPOINT_CODECS.build(codec)
        self.loss_module = MODELS.build(loss)
        self.deep_supervision = deep_supervision

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.fc.weight, std=self.init_std)
        nn.init.zeros_(self.fc.bias)

    def forward(self, hs: torch.Tensor, f_b: torch.Tensor) -> torch.Tensor:
        """Answers (L, B, K, C) and f_b (B, C, h, w) -> heatmaps (L, B, K, h, w)."""
        return torch.einsum('lbkc,bchw->lbkhw', self.fc(hs), f_b)

    def loss(self, hs: torch.Tensor, f_b: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        heatmaps = self(hs, f_b)
        gt = torch.stack([s.gt_fields.heatmaps for s in data_samples]).to(heatmaps.dtype)
        if gt.shape[-2:] != heatmaps.shape[-2:]:
            raise ValueError(f'codec heatmaps {tuple(gt.shape[-2:])} do not match f_b '
                             f'{tuple(heatmaps.shape[-2:])}: heatmap_size must be input / 4')
        weights = torch.cat([s.gt_instance_labels.keypoint_weights for s in data_samples])
        layers = range(len(hs)) if self.deep_supervision else [len(hs) - 1]
        losses = dict()
        for lvl in layers:
            prefix = '' if lvl == len(hs) - 1 else f'd{lvl}.'
            losses[prefix + 'loss_kpt'] = self.loss_module(heatmaps[lvl], gt, weights)
        return losses

    def decode(self, heatmaps: torch.Tensor) -> List[InstanceData]:
        """Heatmaps (B, K, h, w) -> per image ``keypoints`` (1, K, 2) in the input crop's
        pixels and ``keypoint_scores`` (1, K), by the codec."""
        results = []
        for hm in heatmaps.detach().float().cpu().numpy():
            keypoints, scores = self.codec.decode(hm)
            results.append(InstanceData(keypoints=keypoints, keypoint_scores=scores))
        return results

