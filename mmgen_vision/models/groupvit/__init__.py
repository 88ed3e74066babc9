# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT (Xu et al., CVPR 2022): semantic segmentation that emerges from image-text
contrastive training of a grouping vision transformer."""
from .groupvit import GroupViT
from .image_encoder import (AssignAttention, GroupingBlock, GroupViTImageEncoder, GroupViTStage,
                            hard_one_hot)
from .losses import all_gather_with_grad, soft_cross_entropy
from .projector import ProjectionMLP
from .segmentor import VOC_RENAME, GroupViTSegmentor
from .text_encoder import GroupViTTextEncoder

__all__ = [
    'GroupViT', 'GroupViTImageEncoder', 'GroupViTTextEncoder', 'ProjectionMLP', 'GroupViTStage',
    'GroupingBlock', 'AssignAttention', 'hard_one_hot', 'all_gather_with_grad',
    'soft_cross_entropy', 'GroupViTSegmentor', 'VOC_RENAME'
]
