# Copyright (c) mmgen_vision contributors. All rights reserved.
from typing import List

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class SeparableConvHead(BaseDecodeHead):
    """A light decode head: ``num_convs`` depthwise-separable 3x3 convs, then the classifier.

    It exists to show how a project adds a module to the ``mmgen_vision`` registry outside the
    core package; configs load it with ``custom_imports`` and build it as
    ``type='mmgen_vision.SeparableConvHead'`` inside an mmseg model.

    Args:
        num_convs (int): Number of separable conv blocks. Defaults to 2.
        **kwargs: :class:`mmseg.models.decode_heads.decode_head.BaseDecodeHead` arguments
            (``in_channels``, ``channels``, ``num_classes``, ``in_index``, ...).

    Shapes:
        inputs: list of ``(B, C_i, H_i, W_i)``; the ``in_index`` one is used.
        output: ``(B, num_classes, H, W)`` logits at that feature's resolution.
    """

    def __init__(self, num_convs: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_convs < 1:
            raise ValueError(f'SeparableConvHead: num_convs must be >= 1, got {num_convs}')
        self.input_proj = ConvModule(
            self.in_channels, self.channels, 1, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.blocks = torch.nn.Sequential(*[
            DepthwiseSeparableConvModule(
                self.channels, self.channels, 3, padding=1, norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg) for _ in range(num_convs)
        ])

    def forward(self, inputs: List[Tensor]) -> Tensor:
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.blocks(self.input_proj(x)))
