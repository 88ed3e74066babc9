# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder (Zou et al., CVPR 2023): generalised decoding for pixel, image and language."""
from .attention_masks import build_self_attn_mask, expand_self_attn_mask
from .focalnet import FocalNet
from .generation import beam_search, greedy_search
from .language_encoder import XDecoderLanguageEncoder, default_templates
from .losses import *  # noqa: F401,F403
from .pixel_decoder import TransformerEncoderPixelDecoder
from .transformer_decoder import XDecoderTransformerDecoder
from .xdecoder import TASKS, XDecoder

__all__ = [
    'build_self_attn_mask', 'expand_self_attn_mask', 'FocalNet', 'XDecoderLanguageEncoder',
    'default_templates', 'TransformerEncoderPixelDecoder', 'XDecoderTransformerDecoder',
    'beam_search', 'greedy_search', 'TASKS', 'XDecoder'
]
