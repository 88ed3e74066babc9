# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter's pixel head and its masked smooth-L1 loss."""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments
from ..common.patchify import unpatchify

#: ImageNet mean / std in [0, 1] units: every canvas (image and target) is normalised with them.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of ``(B, C, H, W)`` maps (biased variance)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


@MODELS.register_module()
class PainterHead(nn.Module):
    """Tapped features -> pixels.

    ``concat(taps) -> Linear(n C, p * p * D) -> unpatchify -> Conv3x3(D, D) -> LayerNorm2d ->
    GELU -> Conv1x1(D, 3)``.

    Args:
        in_channels (int): Channels of one tapped feature ``C``.
        num_taps (int): Number of tapped features.
        patch_size (int): Patch side ``p``.
        embed_dims (int): Pixel feature channels ``D`` (64 in the release).
        out_channels (int): Output channels.
        norm_eps (float): LayerNorm2d epsilon.
    """

    @renamed_arguments(embed_dim='embed_dims')
    def __init__(self, in_channels: int = 1024, num_taps: int = 4, patch_size: int = 16,
                 embed_dims: int = 64, out_channels: int = 3, norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.embed_dims = embed_dims
        self.decoder_embed = nn.Linear(in_channels * num_taps, patch_size**2 * embed_dims)
        self.conv = nn.Conv2d(embed_dims, embed_dims, 3, padding=1)
        self.norm = LayerNorm2d(embed_dims, eps=norm_eps)
        self.act = nn.GELU()
        self.conv_out = nn.Conv2d(embed_dims, out_channels, 1)
        nn.init.xavier_uniform_(self.decoder_embed.weight)
        nn.init.zeros_(self.decoder_embed.bias)

    def embed(self, feats: Sequence[Tensor]) -> Tensor:
        """Tapped ``(B, Hp, Wp, C)`` features -> pixel features ``(B, D, Hp p, Wp p)``."""
        x = self.decoder_embed(torch.cat(list(feats), dim=-1))
        b, hp, wp, _ = x.shape
        return unpatchify(x.reshape(b, hp * wp, -1), self.patch_size, (hp, wp), self.embed_dims)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        """Tapped features -> predicted canvas ``(B, 3, H, W)`` (normalised space)."""
        return self.conv_out(self.act(self.norm(self.conv(self.embed(feats)))))


@MODELS.register_module()
class PainterLoss(nn.Module):
    """Smooth-L1 on masked patches, weighted by the per-pixel valid map.

    ``loss = sum(smooth_l1(pred, target) * M) / (sum(M) + 0.01)`` with ``M`` the pixel mask of
    the masked patches times ``valid``. A sample whose visible target pixels (de-normalised to
    [0, 1]) sum to less than ``min_visible_sum`` (a near-black, i.e. unlabelled, prompt) is
    dropped, as in the release (which zeroes the caller's ``valid`` in place; here it is not
    modified).

    Args:
        beta (float): Smooth-L1 transition point (0.01 in the release).
        min_visible_sum (float): Sample-drop threshold (300 in the release).
        loss_weight (float): Multiplier.
    """

    def __init__(self, beta: float = 0.01, min_visible_sum: float = 300.,
                 loss_weight: float = 1.) -> None:
        super().__init__()
        self.beta = beta
        self.min_visible_sum = min_visible_sum
        self.loss_weight = loss_weight
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    def sample_weights(self, target: Tensor, pixel_mask: Tensor, valid: Tensor) -> Tensor:
        """``valid`` with dropped samples zeroed (returns a new tensor)."""
        visible = ((target * self.std + self.mean) * (1 - pixel_mask)).sum((1, 2, 3))
        keep = (visible >= self.min_visible_sum).to(valid.dtype)
        return valid * keep[:, None, None, None]

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor, valid: Tensor,
                patch_size: int) -> Tensor:
        """
        Args:
            pred (Tensor): ``(B, 3, H, W)`` predicted canvas.
            target (Tensor): ``(B, 3, H, W)`` normalised target canvas.
            mask (Tensor): ``(B, Hp * Wp)`` patch mask, True = masked.
            valid (Tensor): ``(B, 3, H, W)`` per-pixel weights.
            patch_size (int): Patch side.

        Returns:
            Tensor: Scalar loss.
        """
        b, c, h, w = target.shape
        grid = (h // patch_size, w // patch_size)
        pixel_mask = unpatchify(
            mask.reshape(b, -1, 1).to(pred.dtype).expand(-1, -1, patch_size**2 * c),
            patch_size, grid, c)
        weights = pixel_mask * self.sample_weights(target, pixel_mask, valid)
        loss = F.smooth_l1_loss(pred.float(), target.float(), reduction='none', beta=self.beta)
        return self.loss_weight * (loss * weights).sum() / (weights.sum() + 1e-2)
