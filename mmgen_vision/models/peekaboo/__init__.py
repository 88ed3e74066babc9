# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo (Burgert et al., 2022): unsupervised semantic / referring segmentation by
inference-time optimisation of alpha masks against a frozen Stable Diffusion."""
from .alpha import BaseAlpha, FourierAlpha, ImageGuidedBilateral, RasterAlpha
from .diffusion import (ScoreDistillationGuide, StableDiffusionGuide, check_diffusers_dir,
                        make_alphas_cumprod)
from .losses import (GravityLoss, IntersectionLoss, gravity_loss, intersection_loss,
                     score_distillation_loss)
from .peekaboo_segmentor import PeekabooSegmentor
from .testing import build_tiny_stable_diffusion

__all__ = [
    'BaseAlpha', 'FourierAlpha', 'RasterAlpha', 'ImageGuidedBilateral', 'ScoreDistillationGuide',
    'StableDiffusionGuide', 'check_diffusers_dir', 'make_alphas_cumprod', 'GravityLoss',
    'IntersectionLoss', 'gravity_loss', 'intersection_loss', 'score_distillation_loss',
    'PeekabooSegmentor', 'build_tiny_stable_diffusion'
]
