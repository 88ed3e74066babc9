# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image restoration: the target is the clean RGB image itself."""
from typing import Tuple

import numpy as np
from mmengine.structures import PixelData
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS
from .base import BaseImageCodec, ones_valid, require


@TASK_UTILS.register_module()
class RestorationCodec(BaseImageCodec):
    """Identity: ``gt_img`` (clean, ``uint8 (H, W, 3)``, RGB or BGR per ``channel_order``) is the
    target; a prediction is the restored image.

    Args:
        channel_order (str): Order of ``gt_img`` in the results (``'bgr'`` as mmcv loads).
    """

    supports_flip = True  # mirrored prediction mirrored back and averaged
    # an image: resampled back to the query's size bicubically, as the query was resized into
    # the canvas (``PainterInContextDataset``); decode clamps the overshoot to 0-255
    resize_mode = 'bicubic'

    def __init__(self, channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'channel_order must be bgr or rgb, got {channel_order!r}')
        self.channel_order = channel_order

    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        img = np.asarray(require(results, 'gt_img', 'RestorationCodec'))
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'gt_img must be (H, W, 3), got {img.shape}')
        rgb = img[..., ::-1] if self.channel_order == 'bgr' else img
        return np.ascontiguousarray(rgb, dtype=np.uint8), ones_valid(img.shape[:2])

    def decode(self, pred: Tensor, **kwargs) -> Tensor:
        """``(3, H, W)`` 0-255 RGB (returned as is, clamped)."""
        return pred.float().clamp(0, 255)

    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        data_sample.pred_img = PixelData(data=self.decode(pred))
