# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID detection answers (DETR-style): per query ``[box, class]`` from one linear layer.

Everything but the layer is mmdet's ``DETRHead``: Hungarian assignment, classification /
L1 / GIoU losses with deep supervision, and the decoding to boxes in the original image."""
from typing import Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import DETRHead
from mmdet.structures import SampleList

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

    def loss(self, hidden_states: torch.Tensor, batch_data_samples: SampleList) -> dict:
        """``DETRHead.loss``: the answers' outputs, then the losses of every layer.

        Under ``torch.compile`` only the outputs are traced: the Hungarian assignment (SciPy),
        the per-image targets of varying number and the samples' metainfo run eagerly (traced,
        they recompiled the step at every batch).
        """
        return self._loss_from_outputs(self(hidden_states), batch_data_samples)

    @torch.compiler.disable  # matching, per-image targets, metainfo: eager under compile
    def _loss_from_outputs(self, outs: Tuple[torch.Tensor, torch.Tensor],
                           batch_data_samples: SampleList) -> dict:
        gts = [sample.gt_instances for sample in batch_data_samples]
        metas = [sample.metainfo for sample in batch_data_samples]
        return self.loss_by_feat(*outs, gts, metas)
