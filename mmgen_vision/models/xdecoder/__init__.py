# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder (Zou et al., CVPR 2023): generalised decoding for pixel, image and language.

Assembled like mmdet's Mask2Former: :class:`XDecoder` (data flow and task dispatch) runs the
backbone, the pixel decoder, the language encoder and the transformer decoder;
:class:`XDecoderHead` turns the decoder's embeddings into each task's outputs, builds the
targets and computes the losses; :class:`XDecoderFusionHead` post-processes (mmdet's
``MaskFormerFusionHead`` for instances and panoptic segmentation)."""
from .attention_masks import build_self_attn_mask, expand_self_attn_mask
from .focalnet import FocalNet, MMDetFocalNet
from .fusion_head import XDecoderFusionHead, resize_to_original
from .generation import beam_search, greedy_search
from .language_encoder import XDecoderLanguageEncoder, default_templates
from .losses import *  # noqa: F401,F403
from .pixel_decoder import XDecoderPixelDecoder
from .transformer_decoder import XDecoderTransformerDecoder
from .xdecoder import TASKS, XDecoder
from .xdecoder_head import XDecoderHead, split_phrases

__all__ = [
    'build_self_attn_mask', 'expand_self_attn_mask', 'FocalNet', 'MMDetFocalNet',
    'XDecoderLanguageEncoder', 'default_templates', 'XDecoderPixelDecoder',
    'XDecoderTransformerDecoder', 'XDecoderHead',
    'XDecoderFusionHead', 'resize_to_original', 'split_phrases', 'beam_search',
    'greedy_search', 'TASKS', 'XDecoder'
]
