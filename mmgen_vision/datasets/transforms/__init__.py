# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Data transforms that the stock libraries do not have."""
from .image_text import (ExtractNouns, LoadImageFromShard, PackImageTextInputs, PromptNouns,
                         RandomResizedCropImage, TokenizeText)
from .loading import LoadImage, LoadImageFromFile
from .painter_transforms import LoadPairedImage, PackRestorationInputs
from .referring import CenterCropSquare, LoadReferringAnnotations, decode_coco_mask
from .semseg_to_instances import SemSegToInstances
from .xdecoder_text import PackXDecoderInputs, TokenizeXDecoderText

__all__ = ['CenterCropSquare', 'LoadReferringAnnotations', 'decode_coco_mask',
           'LoadImageFromShard', 'ExtractNouns', 'PromptNouns', 'TokenizeText',
           'PackImageTextInputs', 'RandomResizedCropImage']
__all__ += ['PackXDecoderInputs', 'TokenizeXDecoderText']
__all__ += ['LoadPairedImage', 'PackRestorationInputs']
__all__ += ['LoadImageFromFile', 'LoadImage']
__all__ += ['SemSegToInstances']
