# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo (Burgert et al., 2022): unsupervised semantic / referring segmentation by
inference-time optimisation of alpha masks against a frozen Stable Diffusion.

The model defines the problem; the optimisation loop and the evolution PNGs are the engine's
(:class:`mmgen_vision.engine.TestTimeOptimizationLoop`). Tiny random Stable Diffusion
directories for tests: :mod:`mmgen_vision.testing`."""
from .alpha import BaseAlpha, FourierAlpha, ImageGuidedBilateral, RasterAlpha
from .diffusers_dir import check_diffusers_dir, save_diffusers_dir, stable_diffusion_scheduler
from .diffusion import ScoreDistillationGuide, StableDiffusionGuide
from .losses import (GravityLoss, IntersectionLoss, gravity_loss, intersection_loss,
                     score_distillation_loss)
from .peekaboo_segmentor import AlphaProblem, PeekabooSegmentor

__all__ = [
    'BaseAlpha', 'FourierAlpha', 'RasterAlpha', 'ImageGuidedBilateral', 'ScoreDistillationGuide',
    'StableDiffusionGuide', 'check_diffusers_dir', 'save_diffusers_dir',
    'stable_diffusion_scheduler', 'GravityLoss', 'IntersectionLoss', 'gravity_loss',
    'intersection_loss', 'score_distillation_loss', 'PeekabooSegmentor', 'AlphaProblem'
]
