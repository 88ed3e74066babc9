# Copyright (c) mmgen_vision contributors. All rights reserved.
from .painter_sampler import MultiTaskWeightedSampler

__all__ = ['MultiTaskWeightedSampler']
