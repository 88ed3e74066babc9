# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Public test utilities: builders of tiny, randomly initialised models for tests, benchmarks,
demos and smoke runs (no download, no trained weights).

Nothing in the runtime package imports this; it sits at the models layer because it builds
models (``tests/test_layering.py``). :func:`build_tiny_stable_diffusion` writes a tiny Stable
Diffusion directory that ``StableDiffusionGuide`` (Peekaboo) loads through its real loading
path; :func:`build_sd_v1_architecture` the full-size SD 1.x architecture with random weights (for
speed and memory benchmarks); :func:`sd_v1_components` builds those networks in memory.
"""
from .diffusion_models import (build_sd_v1_architecture, build_tiny_stable_diffusion,
                               sd_v1_components)

__all__ = ['build_tiny_stable_diffusion', 'build_sd_v1_architecture', 'sd_v1_components']
