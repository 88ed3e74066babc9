# Copyright (c) mmgen_vision contributors. All rights reserved.
"""BiFPN neck (EfficientDet): repeated top-down + bottom-up fusion with fast normalised
weights, exposing every level at one width (level 0 is GLID's 1/4-scale feature f_b)."""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmgen_vision.registry import MODELS


def resize_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resize a map (B, C, h, w) to ``size``: max-pooling to go down, nearest to go up."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-2] >= size[0] and x.shape[-1] >= size[1]:
        return F.adaptive_max_pool2d(x, size)
    return F.interpolate(x, size=tuple(size), mode='nearest')


class FastNormalizedFusion(nn.Module):
    """``sum_i relu(w_i) x_i / (eps + sum_j relu(w_j))`` followed by a separable conv.

    Args:
        num_inputs (int): Number of fused maps.
        channels (int): Channels C of every map.
        norm_cfg (dict): Norm after the pointwise conv.
        eps (float): Stabiliser of the weight normalisation.
    """

    def __init__(self, num_inputs: int, channels: int, norm_cfg: dict, eps: float = 1e-4):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_inputs))
        self.eps = eps
        self.act = nn.SiLU()
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.pointwise = ConvModule(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Fuse maps of identical shape (B, C, h, w) into one (B, C, h, w)."""
        w = F.relu(self.weight)
        w = w / (w.sum() + self.eps)
        x = sum(w[i] * t for i, t in enumerate(inputs))
        return self.pointwise(self.depthwise(self.act(x)))


class BiFPNLayer(nn.Module):
    """One bidirectional pass over L levels (finest first) of width C."""

    def __init__(self, num_levels: int, channels: int, norm_cfg: dict):
        super().__init__()
        self.num_levels = num_levels
        # top-down nodes for levels L-2..0, bottom-up nodes for levels 1..L-1
        self.top_down = nn.ModuleList(
            FastNormalizedFusion(2, channels, norm_cfg) for _ in range(num_levels - 1))
        self.bottom_up = nn.ModuleList(
            FastNormalizedFusion(3 if i < num_levels - 1 else 2, channels, norm_cfg)
            for i in range(1, num_levels))

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        """Args: feats (list[Tensor]): L maps (B, C, h_l, w_l), finest first.
        Returns: list[Tensor]: the fused maps, same shapes."""
        num = self.num_levels
        td = [None] * num
        td[num - 1] = feats[num - 1]
        for k, lvl in enumerate(range(num - 2, -1, -1)):
            up = resize_to(td[lvl + 1], feats[lvl].shape[-2:])
            td[lvl] = self.top_down[k]([feats[lvl], up])
        outs = [td[0]]
        for k, lvl in enumerate(range(1, num)):
            down = resize_to(outs[-1], feats[lvl].shape[-2:])
            if lvl < num - 1:
                outs.append(self.bottom_up[k]([feats[lvl], td[lvl], down]))
            else:
                outs.append(self.bottom_up[k]([feats[lvl], down]))
        return outs


@MODELS.register_module()
class BiFPN(BaseModule):
    """Project the encoder's stages to one width and fuse them with repeated BiFPN layers.

    Args:
        in_channels (Sequence[int]): Channels of the encoder stages, finest first.
        out_channels (int): Width C of every output level.
        num_layers (int): Number of repeated BiFPN layers. Defaults to 2.
        norm_cfg (dict): Norm of the projections and fusion convs. Defaults to GN(32).
        init_cfg (dict, optional): Initialisation config.

    Inputs are (B, in_channels[l], h_l, w_l); outputs are ``len(in_channels)`` maps
    (B, out_channels, h_l, w_l), level 0 being the 1/4-scale feature f_b.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_layers: int = 2,
                 norm_cfg: dict = dict(type='GN', num_groups=32), init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'BiFPN num_layers must be >= 1, got {num_layers}')
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.lateral = nn.ModuleList(
            ConvModule(c, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in self.in_channels)
        self.layers = nn.ModuleList(
            BiFPNLayer(len(self.in_channels), out_channels, norm_cfg) for _ in range(num_layers))

    def forward(self, inputs: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'BiFPN expects {len(self.in_channels)} levels, got {len(inputs)}')
        feats = [lat(x) for lat, x in zip(self.lateral, inputs)]
        for layer in self.layers:
            feats = layer(feats)
        return feats
