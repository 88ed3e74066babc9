# Copyright (c) mmgen_vision contributors. All rights reserved.
"""FocalNet backbone (focal modulation networks), the ``focal_dw`` flavour of the X-Decoder release.

Each block: ``x = x + dw1(x)``; ``x = norm1(x + gamma1 * modulation(x))`` (post-LN; pre-LN
variant: ``x + gamma1 * modulation(norm1(x))``); ``x = x + dw2(x)``;
``x = norm2(x + gamma2 * mlp(x))``. The stage outputs ``res2..res5`` are taken before each
downsampling and pass through a per-stage LayerNorm.

Registered in the ``mmgen_vision`` scope only. An mmdet detector (which expects a tuple of
maps) names the tuple variant with the scope prefix: ``type='mmgen_vision.MMDetFocalNet'``.
"""
from typing import Dict, List, Sequence, Union

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments


def _channels_last_conv(conv: nn.Module, x: Tensor) -> Tensor:
    """Apply an NCHW convolution to an NHWC tensor."""
    return conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class FocalModulation(nn.Module):
    """Focal modulation: hierarchical depth-wise context, gated aggregation, ``q * h(ctx)``.

    Args:
        dim (int): Channels ``C``.
        focal_level (int): Number of context levels ``L``. Defaults to 2.
        focal_window (int): Kernel of the first level (level ``l``: ``2l + window``).
        scaling_modulator (bool): Divide the aggregated context by ``L + 1``.
        proj_drop (float): Dropout after the output projection.
    """

    def __init__(self, dim: int, focal_level: int = 2, focal_window: int = 7,
                 focal_factor: int = 2, scaling_modulator: bool = True,
                 proj_drop: float = 0.) -> None:
        super().__init__()
        self.dim = dim
        self.focal_level = focal_level
        self.scaling_modulator = scaling_modulator
        self.f = nn.Linear(dim, 2 * dim + focal_level + 1)
        self.h = nn.Conv2d(dim, dim, kernel_size=1)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.act = nn.GELU()
        self.focal_layers = nn.ModuleList()
        for level in range(focal_level):
            kernel = focal_factor * level + focal_window
            self.focal_layers.append(
                nn.Sequential(
                    nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim, bias=False),
                    nn.GELU()))

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, H, W, C)`` -> ``(B, H, W, C)``."""
        c = self.dim
        x = self.f(x).permute(0, 3, 1, 2)
        q, ctx, gates = torch.split(x, (c, c, self.focal_level + 1), dim=1)
        ctx_all = 0
        for level, layer in enumerate(self.focal_layers):
            ctx = layer(ctx)
            ctx_all = ctx_all + ctx * gates[:, level:level + 1]
        ctx_global = self.act(ctx.mean(dim=(2, 3), keepdim=True))
        ctx_all = ctx_all + ctx_global * gates[:, self.focal_level:]
        if self.scaling_modulator:
            ctx_all = ctx_all / (self.focal_level + 1)
        out = q * self.h(ctx_all)
        return self.proj_drop(self.proj(out.permute(0, 2, 3, 1)))


class FocalNetBlock(nn.Module):
    """One ``focal_dw`` FocalNet block on ``(B, H, W, C)`` features."""

    def __init__(self, dim: int, mlp_ratio: float = 4., drop: float = 0.,
                 drop_path: float = 0., focal_level: int = 2, focal_window: int = 3,
                 use_layerscale: bool = False, layerscale_value: float = 1e-4,
                 use_postln: bool = False, scaling_modulator: bool = True) -> None:
        super().__init__()
        self.use_postln = use_postln
        self.dw1 = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm1 = nn.LayerNorm(dim)
        self.modulation = FocalModulation(dim, focal_level, focal_window,
                                          scaling_modulator=scaling_modulator, proj_drop=drop)
        self.dw2 = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential()
        self.mlp.add_module('fc1', nn.Linear(dim, hidden))
        self.mlp.add_module('act', nn.GELU())
        self.mlp.add_module('drop1', nn.Dropout(drop))
        self.mlp.add_module('fc2', nn.Linear(hidden, dim))
        self.mlp.add_module('drop2', nn.Dropout(drop))
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        scale = layerscale_value if use_layerscale else 1.0
        self.gamma1 = nn.Parameter(torch.full((dim, ), scale), requires_grad=use_layerscale)
        self.gamma2 = nn.Parameter(torch.full((dim, ), scale), requires_grad=use_layerscale)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, H, W, C)`` -> ``(B, H, W, C)``."""
        x = x + _channels_last_conv(self.dw1, x)
        if self.use_postln:
            x = self.norm1(x + self.drop_path(self.gamma1 * self.modulation(x)))
        else:
            x = x + self.drop_path(self.gamma1 * self.modulation(self.norm1(x)))
        x = x + _channels_last_conv(self.dw2, x)
        if self.use_postln:
            x = self.norm2(x + self.drop_path(self.gamma2 * self.mlp(x)))
        else:
            x = x + self.drop_path(self.gamma2 * self.mlp(self.norm2(x)))
        return x


class ConvPatchEmbed(nn.Module):
    """Strided convolution + LayerNorm; pads the input to a multiple of the stride.

    The stem uses a 7x7/4 kernel (``use_conv_embed``) or a 4x4/4 one, the downsamplings a
    3x3/2 kernel (or 2x2/2).
    """

    def __init__(self, in_channels: int, embed_dims: int, stride: int, use_conv_embed: bool,
                 is_stem: bool, norm: bool = True) -> None:
        super().__init__()
        self.stride = stride
        if use_conv_embed:
            kernel, padding = (7, 3) if is_stem else (3, 1)
        else:
            kernel, padding = stride, 0
        self.projection = nn.Conv2d(in_channels, embed_dims, kernel, stride, padding)
        self.norm = nn.LayerNorm(embed_dims) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, H, W)`` -> ``[B, H', W', D]``."""
        h, w = x.shape[-2:]
        if h % self.stride or w % self.stride:
            x = F.pad(x, (0, (-w) % self.stride, 0, (-h) % self.stride))
        return self.norm(self.projection(x).permute(0, 2, 3, 1))


@MODELS.register_module()
class FocalNet(BaseModule):
    """FocalNet backbone returning multi-scale NCHW features.

    Args:
        embed_dims (int): Channels of the first stage (doubled per stage). Defaults to 96.
        depths (Sequence[int]): Blocks per stage. Defaults to (2, 2, 6, 2) (Focal-T).
        focal_levels (int | Sequence[int]): Context levels per stage. Defaults to 3.
        focal_windows (int | Sequence[int]): First kernel per stage. Defaults to 3.
        mlp_ratio (float): Defaults to 4.
        drop_rate (float): Dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, linear over the blocks. Defaults to 0.3.
        use_conv_embed (bool): Overlapping conv stem/downsampling. Defaults to True.
        use_layerscale (bool): Defaults to True.
        layerscale_value (float): Defaults to 1e-4.
        use_postln (bool): Post-LN blocks (release). Defaults to True.
        scaling_modulator (bool): Defaults to True.
        out_indices (Sequence[int]): Stages whose (normalised) outputs are returned.
        frozen_stages (int): Freeze the stem and the first ``frozen_stages`` stages (-1: none).
        with_cp (bool): Activation checkpointing of the blocks. Defaults to False.
        in_channels (int): Defaults to 3.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    @renamed_arguments(embed_dim='embed_dims')
    def __init__(self, embed_dims: int = 96, depths: Sequence[int] = (2, 2, 6, 2),
                 focal_levels: Union[int, Sequence[int]] = 3,
                 focal_windows: Union[int, Sequence[int]] = 3, mlp_ratio: float = 4.,
                 drop_rate: float = 0., drop_path_rate: float = 0.3,
                 use_conv_embed: bool = True, use_layerscale: bool = True,
                 layerscale_value: float = 1e-4, use_postln: bool = True,
                 scaling_modulator: bool = True, out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1, with_cp: bool = False, in_channels: int = 3,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        num_stages = len(depths)
        if isinstance(focal_levels, int):
            focal_levels = [focal_levels] * num_stages
        if isinstance(focal_windows, int):
            focal_windows = [focal_windows] * num_stages
        if len(focal_levels) != num_stages or len(focal_windows) != num_stages:
            raise ValueError(f'focal_levels {focal_levels} / focal_windows {focal_windows} '
                             f'need one entry per stage ({num_stages})')
        if any(i < 0 or i >= num_stages for i in out_indices):
            raise ValueError(f'out_indices {out_indices} out of range for {num_stages} stages')
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.with_cp = with_cp
        self.num_features = [embed_dims * 2**i for i in range(num_stages)]
        self.patch_embed = ConvPatchEmbed(in_channels, embed_dims, 4, use_conv_embed, True)
        self.pos_drop = nn.Dropout(drop_rate)
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages = nn.ModuleList()
        start = 0
        for i, depth in enumerate(depths):
            dim = self.num_features[i]
            stage = nn.Module()
            stage.blocks = nn.ModuleList(
                FocalNetBlock(dim, mlp_ratio, drop_rate, rates[start + j], focal_levels[i],
                              focal_windows[i], use_layerscale, layerscale_value, use_postln,
                              scaling_modulator) for j in range(depth))
            if i < num_stages - 1:
                stage.downsample = ConvPatchEmbed(dim, self.num_features[i + 1], 2,
                                                  use_conv_embed, False)
            self.stages.append(stage)
            start += depth
        self.out_norms = nn.ModuleList(nn.LayerNorm(self.num_features[i]) for i in out_indices)
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        modules: List[nn.Module] = []
        if self.frozen_stages >= 0:
            modules.append(self.patch_embed)
        modules.extend(self.stages[:max(self.frozen_stages, 0)])
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'FocalNet':
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        """``x (B, 3, H, W)`` -> ``{'res2': (B, C, H/4, W/4), ..., 'res5': [B, 8C, H/32,
        W/32]}`` (the stages in ``out_indices``)."""
        x = self.pos_drop(self.patch_embed(x))
        outs = {}
        for i, stage in enumerate(self.stages):
            for block in stage.blocks:
                if self.with_cp and self.training and x.requires_grad:
                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            if i in self.out_indices:
                norm = self.out_norms[self.out_indices.index(i)]
                outs[f'res{i + 2}'] = norm(x).permute(0, 3, 1, 2).contiguous()
            if hasattr(stage, 'downsample'):
                x = stage.downsample(x.permute(0, 3, 1, 2))
        return outs


@MODELS.register_module()
class MMDetFocalNet(FocalNet):
    """:class:`FocalNet` for mmdet detectors (``type='mmgen_vision.MMDetFocalNet'`` in their
    configs): returns a tuple of NCHW maps (``out_indices`` order) instead of a dict."""

    def forward(self, x: Tensor) -> tuple:  # type: ignore[override]
        return tuple(super().forward(x).values())


__all__ = ['FocalNet', 'FocalModulation', 'FocalNetBlock', 'MMDetFocalNet']
