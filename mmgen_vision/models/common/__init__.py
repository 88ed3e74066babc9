# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Pieces shared by several methods: one module per concept (attention, position embeddings,
patchify, batching) and the shared model base. The CLIP tokenizer is one layer down, in
:mod:`mmgen_vision.utils.clip_tokenizer` (data transforms use it too)."""
from .attention import MultiheadAttention, scaled_dot_product_attention
from .batching import BatchInvariantMixin, predict_by_shape, shape_groups
from .patchify import patchify, unpatchify
from .pos_embed import decomposed_rel_pos_bias, resize_pos_embed, sine_pos_embed_2d

__all__ = [
    'BatchInvariantMixin', 'predict_by_shape', 'shape_groups',
    'MultiheadAttention', 'scaled_dot_product_attention', 'patchify', 'unpatchify',
    'resize_pos_embed', 'decomposed_rel_pos_bias', 'sine_pos_embed_2d'
]
