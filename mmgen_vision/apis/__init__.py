# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Inferencers: ``SegInferencer`` serves every segmentor config and is the base of the
methods' demos."""
from .painter_inferencer import PainterInferencer
from .seg_inferencer import SegInferencer
from .xdecoder_inferencer import XDecoderInferencer

__all__ = ['SegInferencer', 'XDecoderInferencer']
__all__ += ['PainterInferencer']
