# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Losses of Peekaboo's inference-time optimisation.

- :func:`score_distillation_loss`: the dream loss as a surrogate whose gradient with respect to
  the latents is a given (detached) ``w_t (eps_hat - eps)``, so nothing is differentiated
  through the denoiser.
- :func:`gravity_loss`: sum of all alphas (pulls unsupported mask pixels to zero).
- :func:`intersection_loss`: pairwise overlap of the ``k`` masks of an image (semantic mode).
"""
import torch.nn as nn
from torch import Tensor

from mmgen_vision.registry import MODELS


def score_distillation_loss(latents: Tensor, grad: Tensor) -> Tensor:
    """Surrogate scalar with ``d loss / d latents == grad``.

    Args:
        latents (Tensor): Latents ``(N, C, h, w)`` carrying the graph to the mask parameters.
        grad (Tensor): Score-distillation gradient ``w_t (eps_hat - eps)``, same shape; it is
            detached here.

    Returns:
        Tensor: Scalar ``sum(grad.detach() * latents)``.
    """
    return (grad.detach().to(latents.dtype) * latents).sum()


def gravity_loss(alphas: Tensor, weight: float = 1.0) -> Tensor:
    """``weight * sum(alphas)`` over all pixels, masks and images.

    Args:
        alphas (Tensor): ``(B, k, H, W)`` in ``[0, 1]``.
        weight (float): Loss weight. Defaults to 1.0.
    """
    return weight * alphas.sum()


def intersection_loss(alphas: Tensor, weight: float = 1.0) -> Tensor:
    """Pairwise overlap ``weight * sum_{a < b} sum_p alpha_a(p) alpha_b(p)``.

    Computed as ``((sum_k alpha_k)^2 - sum_k alpha_k^2) / 2`` per pixel. Zero when ``k < 2``.

    Args:
        alphas (Tensor): ``(B, k, H, W)`` in ``[0, 1]``.
        weight (float): Loss weight. Defaults to 1.0.
    """
    total = alphas.sum(dim=1)
    overlap = 0.5 * (total * total - (alphas * alphas).sum(dim=1))
    return weight * overlap.sum()


@MODELS.register_module()
class GravityLoss(nn.Module):
    """Module form of :func:`gravity_loss`.

    Args:
        loss_weight (float): Defaults to 0.05 (the release value).
    """

    def __init__(self, loss_weight: float = 0.05) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, alphas: Tensor) -> Tensor:
        """``alphas``: ``(B, k, H, W)``; returns a scalar."""
        return gravity_loss(alphas, self.loss_weight)


@MODELS.register_module()
class IntersectionLoss(nn.Module):
    """Module form of :func:`intersection_loss`.

    Args:
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, alphas: Tensor) -> Tensor:
        """``alphas``: ``(B, k, H, W)``; returns a scalar."""
        return intersection_loss(alphas, self.loss_weight)
