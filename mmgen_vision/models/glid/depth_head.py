# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID depth answers (AdaBins / BinsFormer style): per query ``[bin length l_i, embedding
z_i]`` from one linear layer; ``p = softmax_i(z_i . f_b)``, ``depth = sum_i p_i c_i``."""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmgen_vision.registry import MODELS


def bin_centers(lengths: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """Bin lengths (..., Q) -> bin centres (..., Q) in metres.

    The widths are ``softmax(l)`` (normalised to sum 1) scaled to ``[min_depth, max_depth]``;
    ``c_i = min_depth + (max_depth - min_depth) * (sum_{j<i} w_j + w_i / 2)``.
    """
    widths = lengths.softmax(-1)
    edges = torch.cumsum(widths, -1) - widths
    return min_depth + (max_depth - min_depth) * (edges + widths / 2)


def chamfer_bin_loss(centers: torch.Tensor, depth: torch.Tensor, valid: torch.Tensor,
                     max_points: int = 2048) -> torch.Tensor:
    """AdaBins' bin-centre loss: the symmetric chamfer distance between each image's bin
    centres (B, Q) and its valid ground-truth depths (B, H, W) (at most ``max_points`` evenly
    strided pixels per image)."""
    losses = []
    for c, d, v in zip(centers, depth, valid):
        points = d[v]
        if points.numel() == 0:
            continue
        if points.numel() > max_points:
            points = points[::(points.numel() + max_points - 1) // max_points]
        dist = (c[:, None] - points[None]).pow(2)
        losses.append(dist.min(1).values.mean() + dist.min(0).values.mean())
    if not losses:
        return centers.sum() * 0.
    return torch.stack(losses).mean()


@MODELS.register_module()
class GLIDDepthHead(BaseModule):
    """The task-specific linear layer of depth estimation and its losses.

    Args:
        embed_dims (int): Width C.
        min_depth (float): d_min in metres. Defaults to 1e-3.
        max_depth (float): d_max in metres. Defaults to 10 (NYUv2).
        loss_depth (dict): Per-image depth loss (``mmseg.SiLogLoss``).
        loss_bins_weight (float): Weight of the chamfer bin-centre loss. Defaults to 0.1.
        deep_supervision (bool): Apply the losses to every decoder layer. Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, embed_dims: int, min_depth: float = 1e-3, max_depth: float = 10.,
                 loss_depth: dict = dict(type='mmseg.SiLogLoss'),
                 loss_bins_weight: float = 0.1, deep_supervision: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not 0 <= min_depth < max_depth:
            raise ValueError(f'need 0 <= min_depth < max_depth, got {min_depth}, {max_depth}')
        self.embed_dims = embed_dims
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.fc = nn.Linear(embed_dims, 1 + embed_dims)
        self.loss_depth = MODELS.build(loss_depth)
        self.loss_bins_weight = loss_bins_weight
        self.deep_supervision = deep_supervision

    def forward(self, hs: torch.Tensor, f_b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Answers (L, B, Q, C) and f_b (B, C, h, w) -> depth (L, B, 1, h, w) and bin centres
        (L, B, Q)."""
        out = self.fc(hs)
        centers = bin_centers(out[..., 0], self.min_depth, self.max_depth)
        probs = torch.einsum('lbqc,bchw->lbqhw', out[..., 1:], f_b).softmax(2)
        depth = torch.einsum('lbqhw,lbq->lbhw', probs, centers).unsqueeze(2)
        return depth, centers

    def loss(self, hs: torch.Tensor, f_b: torch.Tensor, gt_depth: torch.Tensor,
             input_size) -> Dict[str, torch.Tensor]:
        """Args:
            gt_depth (Tensor): (B, 1, H, W) metres, 0 (or less) = invalid.
            input_size (tuple): (H, W) the predictions are upsampled to.
        """
        depth, centers = self(hs, f_b)
        valid = (gt_depth[:, 0] > self.min_depth) & (gt_depth[:, 0] <= self.max_depth)
        target = torch.where(valid[:, None], gt_depth, torch.zeros_like(gt_depth))
        layers: List[int] = list(range(len(hs))) if self.deep_supervision else [len(hs) - 1]
        losses = dict()
        for lvl in layers:
            pred = F.interpolate(depth[lvl], size=tuple(input_size), mode='bilinear',
                                 align_corners=False)
            prefix = '' if lvl == len(hs) - 1 else f'd{lvl}.'
            losses[prefix + 'loss_depth'] = self.loss_depth(pred, target)
            losses[prefix + 'loss_bins'] = self.loss_bins_weight * chamfer_bin_loss(
                centers[lvl], gt_depth[:, 0], valid)
        return losses
