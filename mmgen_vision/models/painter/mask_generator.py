# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Patch masks of the target canvas for Painter's masked image modelling."""
import math
import random
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS


@TASK_UTILS.register_module()
class PainterMaskGenerator:
    """Block-wise (BEiT-style) masks, or the whole bottom (query) half.

    Rectangles of ``min_block``..``max_block`` patches with a log-uniform aspect ratio are
    added until ``ratio`` of the grid is masked (or no rectangle fits any more). With
    probability ``half_prob`` the sample instead masks exactly the bottom half, the in-context
    inference layout.

    The masks are drawn in NumPy and handed over as tensors: they are data, not part of the
    network, so a JIT trace of the training forward (``get_flops.py`` on a training config)
    records them as constants (torch's tracer fails on an in-place boolean ``fill_``).

    Args:
        grid (tuple[int, int]): Patch grid ``(Hp, Wp)`` of the canvas.
        ratio (float): Fraction of patches to mask (0.5 in the release, 0.75 in the paper).
        min_block (int): Smallest rectangle, in patches.
        max_block (int, optional): Largest rectangle (default: the number to mask).
        aspect_range (tuple[float, float]): Aspect ratios of the rectangles.
        half_prob (float): Probability of the "mask the whole query half" mode.
    """

    def __init__(self, grid: Tuple[int, int], ratio: float = 0.5, min_block: int = 16,
                 max_block: Optional[int] = None,
                 aspect_range: Tuple[float, float] = (0.3, 1 / 0.3),
                 half_prob: float = 0.1) -> None:
        self.grid = tuple(grid)
        if not 0. < ratio <= 1.:
            raise ValueError(f'mask ratio must be in (0, 1], got {ratio}')
        self.num_mask = int(round(ratio * self.grid[0] * self.grid[1]))
        self.min_block = min_block
        self.max_block = max_block if max_block is not None else self.num_mask
        self.log_aspect = (math.log(aspect_range[0]), math.log(aspect_range[1]))
        self.half_prob = half_prob

    def half_mask(self) -> Tensor:
        """``(Hp, Wp)`` bool mask of the bottom half."""
        return torch.from_numpy(self._half_mask())

    def block_mask(self, rng: Optional[random.Random] = None) -> Tensor:
        """``(Hp, Wp)`` bool block-wise mask with about ``ratio`` of the patches masked."""
        return torch.from_numpy(self._block_mask(rng or random))

    def _half_mask(self) -> np.ndarray:
        mask = np.zeros(self.grid, dtype=bool)
        mask[self.grid[0] // 2:] = True
        return mask

    def _add_block(self, mask: np.ndarray, budget: int, rng: random.Random) -> int:
        height, width = self.grid
        for _ in range(10):
            area = rng.uniform(min(self.min_block, budget), budget)
            aspect = math.exp(rng.uniform(*self.log_aspect))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if 0 < h <= height and 0 < w <= width:
                top, left = rng.randint(0, height - h), rng.randint(0, width - w)
                window = mask[top:top + h, left:left + w]
                new = int((~window).sum())
                if 0 < new <= budget:
                    window[...] = True
                    return new
        return 0

    def _block_mask(self, rng: random.Random) -> np.ndarray:
        mask = np.zeros(self.grid, dtype=bool)
        count = 0
        while count < self.num_mask:
            added = self._add_block(mask, min(self.num_mask - count, self.max_block), rng)
            if added == 0:
                break
            count += added
        return mask

    @torch.compiler.disable
    def __call__(self, batch_size: int, rng: Optional[random.Random] = None) -> Tensor:
        """``(B, Hp * Wp)`` bool masks, True = masked.

        Drawn with Python's RNG and data-dependent loops, so ``torch.compile`` runs it eagerly
        (one graph break per training step) instead of tracing every draw into a guard.
        """
        rng = rng or random
        masks = [self._half_mask() if rng.random() < self.half_prob else self._block_mask(rng)
                 for _ in range(batch_size)]
        return torch.from_numpy(np.stack(masks).reshape(batch_size, -1))
