# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Inferencers: ``SegInferencer`` serves every segmentor config and is the base of the
methods' demos."""
from .seg_inferencer import SegInferencer

__all__ = ['SegInferencer']
