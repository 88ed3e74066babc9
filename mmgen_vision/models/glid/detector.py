# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID object detection fine-tuning (mmdet data samples, ``mmdet.CocoMetric``)."""
from typing import Dict, Optional

import torch
from mmdet.models.detectors import BaseDetector

from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel


@MODELS.register_module()
class GLIDDetector(GLIDFinetuneModel, BaseDetector):
    """Detection with GLID: queries ``CLS + e_i`` -> decoder -> ``GLIDDetHead``.

    An mmdet ``BaseDetector``: its ``forward`` dispatches the modes and its
    ``add_pred_to_datasample`` packs ``pred_instances``.

    Args:
        bbox_head (dict): ``GLIDDetHead`` config (its ``embed_dims`` is filled in).
        deep_supervision (bool): Apply DETR's losses to every decoder layer (else only to the
            last). Defaults to True.
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    def __init__(self, bbox_head: dict, deep_supervision: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bbox_head = MODELS.build(dict(bbox_head, embed_dims=self.embed_dims))
        self.deep_supervision = deep_supervision

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        hs, _ = self.decode(inputs)
        if not self.deep_supervision:
            hs = hs[-1:]
        return self.bbox_head.loss(hs, data_samples)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per image ``pred_instances`` (``bboxes`` xyxy in the original image, ``scores``,
        ``labels``)."""
        hs, _ = self.decode(inputs)
        results = self.bbox_head.predict(hs, data_samples, rescale=True)
        return self.add_pred_to_datasample(data_samples, results)
