# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID detection answers (DETR-style): per query ``[box, class]`` from one linear layer.

Everything but the layer is mmdet's ``DETRHead``: Hungarian assignment, classification /
L1 / GIoU losses with deep supervision, and the decoding to boxes in the original image."""
from typing import Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import DETRHead

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GLIDDetHead(DETRHead):
    """``DETRHead`` whose class and box branches are replaced by one linear layer
    ``C -> 4 + num_classes (+1 no-object with a softmax loss)``.

    Args:
        num_classes (int): Number of object classes.
        loss_cls (dict): Classification loss; with a softmax ``mmdet.CrossEntropyLoss``,
            ``bg_cls_weight`` sets the relative weight of the no-object class (DETR's 0.1).
        **kwargs: ``mmdet.DETRHead`` arguments (``embed_dims``, ``loss_bbox``, ``loss_iou``,
            ``train_cfg`` with the ``mmdet.HungarianAssigner``, ``test_cfg``).
    """

    def __init__(self, num_classes: int, loss_cls: dict, **kwargs) -> None:
        loss_cls = dict(loss_cls)
        bg_cls_weight = loss_cls.pop('bg_cls_weight', None)
        if bg_cls_weight is not None and not loss_cls.get('use_sigmoid', False):
            weight = float(loss_cls.get('class_weight', 1.0))
            loss_cls['class_weight'] = [weight] * num_classes + [float(bg_cls_weight)]
        super().__init__(num_classes=num_classes, loss_cls=loss_cls, **kwargs)
        if bg_cls_weight is not None:
            self.bg_cls_weight = float(bg_cls_weight)

    def _init_layers(self) -> None:
        self.fc = nn.Linear(self.embed_dims, 4 + self.cls_out_channels)

    def init_weights(self) -> None:
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, hidden_states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Answers (L, B, Q, C) -> class logits (L, B, Q, cls_out_channels) and normalised
        ``(cx, cy, w, h)`` boxes (L, B, Q, 4) in [0, 1]."""
        out = self.fc(hidden_states)
        return out[..., 4:], out[..., :4].sigmoid()
