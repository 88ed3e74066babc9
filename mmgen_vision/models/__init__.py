# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Models of the five methods (one sub-package each) and the pieces they share (``common/``,
``codecs/``). Importing this package registers them in the ``mmgen_vision`` scope.

Method classes live in their sub-package namespace (``mmgen_vision.models.painter.Painter``,
``mmgen_vision.models.glid.GLIDSegmentor``, ...): nothing is star-imported here, so two
methods' helpers of the same name can never shadow each other. The shared transformer kit is
re-exported at this level.
"""
from . import codecs, common, glid, groupvit, painter, peekaboo, xdecoder
from .common.attention import MultiheadAttention, scaled_dot_product_attention
from .common.clip_text import CLIPTextTransformer
from .common.patchify import patchify, unpatchify
from .common.pos_embed import decomposed_rel_pos_bias, resize_pos_embed, sine_pos_embed_2d

__all__ = [
    'codecs', 'common', 'glid', 'groupvit', 'painter', 'peekaboo', 'xdecoder',
    'MultiheadAttention', 'scaled_dot_product_attention', 'CLIPTextTransformer', 'patchify',
    'unpatchify', 'decomposed_rel_pos_bias', 'resize_pos_embed', 'sine_pos_embed_2d'
]
