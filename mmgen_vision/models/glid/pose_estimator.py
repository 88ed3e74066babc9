# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID top-down pose fine-tuning (mmpose data samples, ``mmpose.CocoMetric``)."""
from typing import Dict, Optional

import torch

from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel
from .pose_head import crop_to_image


@MODELS.register_module()
class GLIDPoseEstimator(GLIDFinetuneModel):
    """Pose estimation with GLID: one query per keypoint (``num_queries`` = K).

    Args:
        pose_head (dict): ``GLIDPoseHead`` config (its ``embed_dims`` is filled in).
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    def __init__(self, pose_head: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pose_head = MODELS.build(dict(pose_head, embed_dims=self.embed_dims))

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        hs, feats = self.decode(inputs)
        return self.pose_head.loss(hs, feats[0], data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per person ``pred_instances``: ``keypoints`` (1, K, 2) in the original image,
        ``keypoint_scores`` (1, K), and the person box it was cropped from."""
        hs, feats = self.decode(inputs)
        heatmaps = self.pose_head(hs[-1:], feats[0])[0]
        for sample, pred in zip(data_samples, self.pose_head.decode(heatmaps)):
            pred.keypoints = crop_to_image(pred.keypoints, sample.metainfo)
            pred.keypoints_visible = pred.keypoint_scores
            gt = sample.gt_instances
            pred.bboxes = gt.bboxes
            pred.bbox_scores = gt.bbox_scores
            sample.pred_instances = pred
        return data_samples
