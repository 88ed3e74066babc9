# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Data transforms that the stock libraries do not have."""
from .image_text import (ExtractNouns, LoadImageFromShard, PackImageTextInputs, PromptNouns,
                         RandomResizedCropImage, TokenizeText)
from .referring import CenterCropSquare, LoadReferringAnnotations, decode_coco_mask

__all__ = ['CenterCropSquare', 'LoadReferringAnnotations', 'decode_coco_mask',
           'LoadImageFromShard', 'ExtractNouns', 'PromptNouns', 'TokenizeText',
           'PackImageTextInputs', 'RandomResizedCropImage']
