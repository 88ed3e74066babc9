# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Semantic labels <-> colours: each class is a 3-digit number in base ``b``."""
import math
from typing import Optional, Tuple

import numpy as np
import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS
from .base import BaseImageCodec, require


@TASK_UTILS.register_module()
class SemanticCodec(BaseImageCodec):
    """Class ``k = d2 b^2 + d1 b + d0`` -> colour ``(255 - m d2, 255 - m d1, 255 - m d0)``.

    Unlabelled pixels (``ignore_index``) are black and get zero loss weight. Decoding assigns
    every pixel the class of the nearest colour.

    Args:
        num_classes (int): Number of classes ``L`` (any count).
        base (int, optional): Digit base ``b``; default ``ceil(L ** (1/3))``.
        margin (int, optional): Colour step ``m`` between digits; default ``256 // b``.
        ignore_index (int): Label of unlabelled pixels.
    """

    target_resize_mode = 'nearest'

    def __init__(self, num_classes: int, base: Optional[int] = None,
                 margin: Optional[int] = None, ignore_index: int = 255) -> None:
        if num_classes < 1:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = num_classes
        self.base = base or max(2, math.ceil(round(num_classes**(1 / 3), 9)))
        if self.base**3 < num_classes:
            raise ValueError(f'base {self.base} cannot number {num_classes} classes in 3 digits')
        self.margin = margin or 256 // self.base
        if 255 - self.margin * (self.base - 1) <= 0:
            raise ValueError(f'margin {self.margin} x base {self.base} leaves no room for black')
        self.ignore_index = ignore_index
        self.palette = self.colours(np.arange(num_classes))

    def colours(self, labels: np.ndarray) -> np.ndarray:
        """``(...)`` class indices -> ``(..., 3)`` uint8 RGB."""
        labels = np.asarray(labels, dtype=np.int64)
        b, m = self.base, self.margin
        digits = np.stack([labels // (b * b), (labels % (b * b)) // b, labels % b], axis=-1)
        return (255 - m * digits).astype(np.uint8)

    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        seg = np.asarray(require(results, 'gt_seg_map', type(self).__name__)).astype(np.int64)
        labelled = (seg != self.ignore_index) & (seg >= 0) & (seg < self.num_classes)
        target = np.zeros(seg.shape + (3, ), dtype=np.uint8)
        target[labelled] = self.palette[seg[labelled]]
        valid = np.repeat(labelled[..., None], 3, axis=2).astype(np.float32)
        return target, valid

    def decode(self, pred: Tensor, **kwargs) -> Tensor:
        """``(3, H, W)`` 0-255 -> ``(H, W)`` long labels (nearest class colour)."""
        palette = torch.as_tensor(self.palette, dtype=torch.float32, device=pred.device)
        pixels = pred.float().flatten(1).t()  # (HW, 3)
        labels = torch.empty(pixels.shape[0], dtype=torch.long, device=pred.device)
        for start in range(0, pixels.shape[0], 65536):
            chunk = pixels[start:start + 65536]
            labels[start:start + 65536] = torch.cdist(chunk, palette).argmin(1)
        return labels.view(pred.shape[1:])

    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        data_sample.pred_sem_seg = PixelData(data=self.decode(pred)[None])


@TASK_UTILS.register_module()
class ADE20KSemanticCodec(SemanticCodec):
    """ADE20K-150: base 6, margin 42 (the release's colours)."""

    def __init__(self, num_classes: int = 150, ignore_index: int = 255) -> None:
        super().__init__(num_classes, base=6, margin=42, ignore_index=ignore_index)


@TASK_UTILS.register_module()
class COCOPanopticSemanticCodec(SemanticCodec):
    """COCO panoptic 133 classes (things + stuff): base 7, margin 36 (the release's colours)."""

    def __init__(self, num_classes: int = 133, ignore_index: int = 255) -> None:
        super().__init__(num_classes, base=7, margin=36, ignore_index=ignore_index)
