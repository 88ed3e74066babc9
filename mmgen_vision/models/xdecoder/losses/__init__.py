# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder training losses: the criterion, the point-sampled Hungarian matcher and the
semantic (contrastive, captioning) losses."""
from .criterion import XDecoderCriterion
from .matcher import PointSampledMatcher, QuerySoftmaxCost, grid_point_coords, sample_points
from .semantic_losses import (caption_loss, image_text_contrastive_loss,
                              query_token_contrastive_loss, tied_caption_loss)

__all__ = [
    'XDecoderCriterion', 'PointSampledMatcher', 'QuerySoftmaxCost', 'grid_point_coords',
    'sample_points', 'caption_loss', 'image_text_contrastive_loss',
    'query_token_contrastive_loss', 'tied_caption_loss'
]
