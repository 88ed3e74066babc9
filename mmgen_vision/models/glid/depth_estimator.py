# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID monocular depth fine-tuning (mmseg depth data samples, ``mmseg.DepthMetric``)."""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel
from .segmentor import crop_and_resize


@MODELS.register_module()
class GLIDDepthEstimator(GLIDFinetuneModel):
    """Depth estimation with GLID: bins-style answers dotted with f_b.

    Args:
        depth_head (dict): ``GLIDDepthHead`` config (its ``embed_dims`` is filled in).
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    def __init__(self, depth_head: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.depth_head = MODELS.build(dict(depth_head, embed_dims=self.embed_dims))

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        gt = torch.stack([s.gt_depth_map.data for s in data_samples]).to(inputs.dtype)
        if gt.shape[-2:] != inputs.shape[-2:]:
            raise ValueError(f'gt_depth_map {tuple(gt.shape[-2:])} does not match the input '
                             f'{tuple(inputs.shape[-2:])}: pad or crop both the same way')
        hs, feats = self.decode(inputs)
        return self.depth_head.loss(hs, feats[0], gt, inputs.shape[-2:])

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per image ``pred_depth_map`` (1, H, W) in metres at the original size."""
        hs, feats = self.decode(inputs)
        depth, _ = self.depth_head(hs[-1:], feats[0])
        depth = F.interpolate(depth[0], size=inputs.shape[-2:], mode='bilinear',
                              align_corners=False)
        for i, sample in enumerate(data_samples):
            sample.set_data(dict(pred_depth_map=PixelData(
                data=crop_and_resize(depth[i], sample.metainfo))))
        return data_samples
