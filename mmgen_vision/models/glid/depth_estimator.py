# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID monocular depth fine-tuning (mmseg depth data samples, ``mmseg.DepthMetric``)."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmseg.models.segmentors import BaseSegmentor, DepthEstimator

from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel


@MODELS.register_module()
class GLIDDepthEstimator(GLIDFinetuneModel, BaseSegmentor):
    """Depth estimation with GLID: bins-style answers dotted with f_b.

    An mmseg ``BaseSegmentor`` (mode dispatch) that packs its results like mmseg's
    ``DepthEstimator`` (``pred_depth_map``, padding removed, resized to ``ori_shape``); mmseg's
    ``DepthEstimator`` itself builds a backbone and a decode head, which GLID's shared
    encoder-decoder is not.

    Args:
        depth_head (dict): ``GLIDDepthHead`` config (its ``embed_dims`` is filled in).
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    postprocess_result = DepthEstimator.postprocess_result

    def __init__(self, depth_head: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.depth_head = MODELS.build(dict(depth_head, embed_dims=self.embed_dims))
        self.align_corners = False  # of the resize to the original image

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        gt = torch.stack([s.gt_depth_map.data for s in data_samples]).to(inputs.dtype)
        if gt.shape[-2:] != inputs.shape[-2:]:
            raise ValueError(f'gt_depth_map {tuple(gt.shape[-2:])} does not match the input '
                             f'{tuple(inputs.shape[-2:])}: pad or crop both the same way')
        hs, feats = self.decode(inputs)
        return self.depth_head.loss(hs, feats[0], gt, inputs.shape[-2:])

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: Optional[List[dict]] = None
                      ) -> torch.Tensor:
        """Images (B, 3, H, W) -> depth (B, 1, H, W) in metres at the input size."""
        hs, feats = self.decode(inputs)
        depth, _ = self.depth_head(hs[-1:], feats[0])
        return F.interpolate(depth[0], size=inputs.shape[-2:], mode='bilinear',
                             align_corners=False)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per image ``pred_depth_map`` (1, H, W) in metres at the original size."""
        return self.postprocess_result(self.encode_decode(inputs), data_samples)
