# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Task <-> image codecs (registered in ``TASK_UTILS``), shared by every method that paints
task outputs as images (Painter, ...)."""
from .base import BaseImageCodec
from .depth import DepthCodec
from .instance import InstanceCodec, PanopticMerger, majority_labels, panoptic_merge
from .keypoint import KeypointCodec
from .restoration import RestorationCodec
from .semantic import ADE20KSemanticCodec, COCOPanopticSemanticCodec, SemanticCodec

__all__ = [
    'BaseImageCodec', 'DepthCodec', 'SemanticCodec', 'ADE20KSemanticCodec',
    'COCOPanopticSemanticCodec', 'InstanceCodec', 'PanopticMerger', 'panoptic_merge',
    'majority_labels', 'KeypointCodec', 'RestorationCodec'
]
