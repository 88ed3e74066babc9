# Copyright (c) mmgen_vision contributors. All rights reserved.
"""MaskFormer-style pixel decoder of X-Decoder: an FPN whose coarsest level first goes through a
transformer encoder (no deformable attention).

Same interface as mmdet's ``MSDeformAttnPixelDecoder`` (``feats`` finest first ->
``(mask_features, multi_scale_features)``, the latter coarsest first), so the two are
interchangeable in :class:`XDecoder` configs. mmdet's ``TransformerEncoderPixelDecoder``
(MaskFormer) returns ``(mask_features, memory)`` instead: ours is ``XDecoderPixelDecoder``.
"""
from typing import List, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.layers import SinePositionalEncoding
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments
from .layers import EncoderLayer


@MODELS.register_module()
class XDecoderPixelDecoder(BaseModule):
    """FPN + transformer encoder on the coarsest feature.

    1. ``y = output_conv(encoder(input_proj(res5) + sine PE))``;
    2. for res4, res3, res2: ``y = output_conv_k(lateral_k(res_k) + nearest_up(y))``;
    3. ``multi_scale_features`` = the first ``num_outs`` maps (coarsest first) and
       ``mask_features = mask_feature(y)`` at the finest level.

    Args:
        in_channels (Sequence[int]): Channels of the backbone maps, finest first.
        feat_channels (int): FPN channels. Defaults to 512.
        out_channels (int): Channels of the mask features. Defaults to 512.
        num_encoder_layers (int): Defaults to 6.
        num_heads (int): Defaults to 8.
        feedforward_channels (int): FFN hidden channels of the encoder. Defaults to 2048.
        dropout (float): Defaults to 0.
        pre_norm (bool): Defaults to False.
        num_outs (int): Number of multi-scale outputs. Defaults to 3.
        norm_cfg (dict): Norm of the FPN convs. Defaults to GroupNorm with 32 groups.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    @renamed_arguments(conv_dim='feat_channels', mask_dim='out_channels',
                       ffn_dim='feedforward_channels')
    def __init__(self, in_channels: Sequence[int] = (96, 192, 384, 768), feat_channels: int = 512,
                 out_channels: int = 512, num_encoder_layers: int = 6, num_heads: int = 8,
                 feedforward_channels: int = 2048, dropout: float = 0., pre_norm: bool = False,
                 num_outs: int = 3, norm_cfg: dict = dict(type='GN', num_groups=32),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) < num_outs:
            raise ValueError(f'{len(in_channels)} input levels < num_outs {num_outs}')
        self.num_outs = num_outs
        self.input_proj = nn.Conv2d(in_channels[-1], feat_channels, 1)
        self.positional_encoding = SinePositionalEncoding(feat_channels // 2, normalize=True)
        self.encoder = nn.ModuleList(
            EncoderLayer(feat_channels, num_heads, feedforward_channels, dropout, pre_norm)
            for _ in range(num_encoder_layers))
        self.encoder_out_conv = ConvModule(feat_channels, feat_channels, 3, padding=1, bias=False,
                                           norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))
        self.lateral_convs = nn.ModuleList(
            ConvModule(c, feat_channels, 1, bias=False, norm_cfg=norm_cfg, act_cfg=None)
            for c in in_channels[:-1])
        self.output_convs = nn.ModuleList(
            ConvModule(feat_channels, feat_channels, 3, padding=1, bias=False, norm_cfg=norm_cfg,
                       act_cfg=dict(type='ReLU')) for _ in in_channels[:-1])
        self.mask_feature = nn.Conv2d(feat_channels, out_channels, 3, padding=1)

    def init_weights(self) -> None:
        super().init_weights()
        for conv in [self.input_proj, self.mask_feature]:
            nn.init.kaiming_uniform_(conv.weight, a=1)
            nn.init.zeros_(conv.bias)

    def forward(self, feats: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """Decode.

        Args:
            feats (list[Tensor]): Backbone maps finest first, ``(B, C_i, H_i, W_i)``.

        Returns:
            tuple: ``mask_features (B, out_channels, H_0, W_0)`` and ``num_outs`` maps
            ``(B, feat_channels, H_i, W_i)``, coarsest first.
        """
        x = self.input_proj(feats[-1])
        b, c, h, w = x.shape
        pos = self.positional_encoding(None, x).flatten(2).permute(2, 0, 1)
        y = x.flatten(2).permute(2, 0, 1)
        for layer in self.encoder:
            y = layer(y, pos)
        y = self.encoder_out_conv(y.permute(1, 2, 0).reshape(b, c, h, w))
        outs = [y]
        for i in range(len(feats) - 2, -1, -1):
            lateral = self.lateral_convs[i](feats[i])
            y = lateral + F.interpolate(y, size=lateral.shape[-2:], mode='nearest')
            y = self.output_convs[i](y)
            outs.append(y)
        return self.mask_feature(y), outs[:self.num_outs]

