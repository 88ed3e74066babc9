# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Depth in metres <-> a gray image."""
from typing import Tuple

import numpy as np
import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS
from .base import BaseImageCodec, require


@TASK_UTILS.register_module()
class DepthCodec(BaseImageCodec):
    """``gray = round(depth / max_depth * 255)`` in all three channels; decode = channel mean.

    Args:
        max_depth (float): Depth (metres) mapped to 255; deeper pixels saturate (10 m for
            NYUv2 in the release).
        min_valid_depth (float): Pixels with a smaller ground-truth depth (no measurement) get
            zero loss weight (1e-4 m).
    """

    supports_flip = True  # mirrored prediction mirrored back and averaged

    def __init__(self, max_depth: float = 10., min_valid_depth: float = 1e-4) -> None:
        self.max_depth = float(max_depth)
        self.min_valid_depth = float(min_valid_depth)

    @property
    def step(self) -> float:
        """Quantisation step in metres (the round-trip error is at most half of it)."""
        return self.max_depth / 255.

    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        depth = np.asarray(require(results, 'gt_depth_map', 'DepthCodec'), dtype=np.float32)
        gray = np.clip(np.round(depth / self.max_depth * 255.), 0, 255).astype(np.uint8)
        valid = (depth >= self.min_valid_depth).astype(np.float32)
        return np.repeat(gray[..., None], 3, axis=2), np.repeat(valid[..., None], 3, axis=2)

    def decode(self, pred: Tensor, **kwargs) -> Tensor:
        """``(3, H, W)`` 0-255 -> ``(H, W)`` metres."""
        return pred.float().mean(0) / 255. * self.max_depth

    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        depth = self.decode(pred).clamp(min=self.step / 2)  # strictly positive (log metrics)
        data_sample.pred_depth_map = PixelData(data=depth[None].to(torch.float32))
