# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID top-down pose fine-tuning (mmpose data samples, ``mmpose.CocoMetric``)."""
from typing import Dict, Optional

import torch
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_heatmaps

from mmgen_vision.models.common.base_model import BaseTaskModel
from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel


@MODELS.register_module()
class GLIDPoseEstimator(GLIDFinetuneModel, BaseTaskModel):
    """Pose estimation with GLID: one query per keypoint (``num_queries`` = K).

    Top-down like mmpose's ``TopdownPoseEstimator``, whose flip test (``flip_heatmaps``) and
    packing of the predictions (``add_pred_to_datasample``: keypoints from the input crop to
    the image, the person box) it uses; the mode dispatch is
    :class:`~mmgen_vision.models.common.base_model.BaseTaskModel`'s, since mmpose's estimators
    build a backbone and a head of their own where GLID has one shared encoder-decoder.

    Args:
        pose_head (dict): ``GLIDPoseHead`` config (its ``embed_dims`` is filled in).
        test_cfg (dict, optional): ``flip_test`` (bool, default False): average the heatmaps
            with those of the horizontally flipped crop, flipped back and their left / right
            keypoints swapped by the samples' ``flip_indices`` (mmpose's top-down flip test);
            ``shift_heatmap`` (bool, default True): shift the flipped-back heatmaps by one
            column, as mmpose does for MSRA heatmaps; ``output_keypoint_indices`` (optional):
            the keypoints kept in the output, as in mmpose.
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    add_pred_to_datasample = TopdownPoseEstimator.add_pred_to_datasample

    def __init__(self, pose_head: dict, test_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pose_head = MODELS.build(dict(pose_head, embed_dims=self.embed_dims))
        self.test_cfg = dict(flip_test=False, shift_heatmap=True)
        self.test_cfg.update(test_cfg or {})

    def heatmaps(self, inputs: torch.Tensor) -> torch.Tensor:
        """Crops (B, 3, H, W) -> last-layer heatmaps (B, K, H / 4, W / 4)."""
        hs, feats = self.decode(inputs)
        return self.pose_head(hs[-1:], feats[0])[0]

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        hs, feats = self.decode(inputs)
        return self.pose_head.loss(hs, feats[0], data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per person ``pred_instances``: ``keypoints`` (1, K, 2) in the original image,
        ``keypoint_scores`` (1, K), and the person box it was cropped from."""
        heatmaps = self.heatmaps(inputs)
        if self.test_cfg['flip_test']:
            flipped = flip_heatmaps(self.heatmaps(inputs.flip(-1)),
                                    flip_indices=data_samples[0].metainfo['flip_indices'],
                                    shift_heatmap=self.test_cfg['shift_heatmap'])
            heatmaps = (heatmaps + flipped) * 0.5
        return self.add_pred_to_datasample(self.pose_head.decode(heatmaps), None, data_samples)
