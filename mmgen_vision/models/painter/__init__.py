# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter (Wang et al., CVPR 2023): dense tasks as in-context masked image modelling."""
from .mask_generator import PainterMaskGenerator
from .painter import Painter, PainterDataPreprocessor
from ..common.patchify import patchify, unpatchify
from .painter_head import IMAGENET_MEAN, IMAGENET_STD, LayerNorm2d, PainterHead, PainterLoss
from .prompt_tuning import PainterPromptTuner
from .painter_vit import PainterBlock, PainterViT, RelPosAttention, decomposed_rel_pos_bias

__all__ = [
    'Painter', 'PainterDataPreprocessor', 'PainterViT', 'PainterBlock', 'RelPosAttention',
    'decomposed_rel_pos_bias', 'PainterHead', 'PainterLoss', 'LayerNorm2d', 'patchify',
    'unpatchify', 'PainterMaskGenerator', 'IMAGENET_MEAN', 'IMAGENET_STD', 'PainterPromptTuner'
]
