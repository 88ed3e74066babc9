# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Pieces shared by several methods."""
from .batching import BatchInvariantMixin, predict_by_shape, shape_groups
from .clip_tokenizer import CLIPTokenizer

__all__ = ['CLIPTokenizer', 'BatchInvariantMixin', 'predict_by_shape', 'shape_groups']
