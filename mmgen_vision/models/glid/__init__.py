# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID: generalist encoder-decoder pre-training (MIM as query-to-answer) and fine-tuning by
swapping only the last linear layer."""
from .bifpn import BiFPN
from .depth_estimator import GLIDDepthEstimator
from .depth_head import GLIDDepthHead, bin_centers, chamfer_bin_loss
from .decoder import GLIDTransformerDecoder, sine_pos_embed_2d
from .det_head import GLIDDetHead
from .detector import GLIDDetector
from .encoder_decoder import GLIDEncoderDecoder
from .finetune_base import GLIDFinetuneModel
from .partial_loading import LOAD_CHOICES, load_glid_pretrained, select_keys
from .pose_estimator import GLIDPoseEstimator
from .pose_head import GLIDPoseHead
from .pretrainer import GLIDPretrainer, patchify, unpatchify
from .seg_head import GLIDSegHead
from .segmentor import GLIDSegmentor
from .swin_encoder import GLIDSwinTransformer
from .universal_segmentor import GLIDUniversalSegmentor

__all__ = [
    'BiFPN', 'GLIDTransformerDecoder', 'sine_pos_embed_2d', 'GLIDEncoderDecoder',
    'GLIDFinetuneModel', 'LOAD_CHOICES', 'load_glid_pretrained', 'select_keys',
    'GLIDPretrainer', 'patchify', 'unpatchify', 'GLIDSwinTransformer', 'GLIDDepthEstimator',
    'GLIDDepthHead', 'bin_centers', 'chamfer_bin_loss', 'GLIDDetHead', 'GLIDDetector',
    'GLIDPoseEstimator', 'GLIDPoseHead', 'GLIDSegHead', 'GLIDSegmentor', 'GLIDUniversalSegmentor'
]
