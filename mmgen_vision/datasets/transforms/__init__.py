# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Data transforms that the stock libraries do not have."""
from .referring import CenterCropSquare, LoadReferringAnnotations, decode_coco_mask

__all__ = ['CenterCropSquare', 'LoadReferringAnnotations', 'decode_coco_mask']
