# Copyright (c) mmgen_vision contributors. All rights reserved.
from typing import Optional, Sequence

import numpy as np


def default_palette(num_classes: int, seed: int = 0) -> np.ndarray:
    """A fixed random palette, ``(num_classes, 3)`` uint8, for label sets without one."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(num_classes, 3), dtype=np.uint8)


def colorize_label_map(labels: np.ndarray, palette: Sequence[Sequence[int]],
                       ignore_index: int = 255) -> np.ndarray:
    """Paint a label map ``(H, W)`` with ``palette`` into ``(H, W, 3)`` uint8 RGB.

    Pixels labelled ``ignore_index`` (or beyond the palette) are black.
    """
    palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    labels = np.asarray(labels)
    valid = (labels >= 0) & (labels < len(palette)) & (labels != ignore_index)
    out = np.zeros(labels.shape + (3, ), dtype=np.uint8)
    out[valid] = palette[labels[valid]]
    return out


def overlay_label_map(image: np.ndarray, labels: np.ndarray, palette: Sequence[Sequence[int]],
                      alpha: float = 0.5, ignore_index: int = 255,
                      skip_labels: Optional[Sequence[int]] = None) -> np.ndarray:
    """Blend a painted label map over an RGB image.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        labels (np.ndarray): ``(H, W)`` integer labels at the image's size.
        palette: One RGB colour per label.
        alpha (float): Opacity of the colours. Defaults to 0.5.
        ignore_index (int): Label left unpainted. Defaults to 255.
        skip_labels (Sequence[int], optional): Labels also left unpainted (e.g. background).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    if image.shape[:2] != labels.shape:
        raise ValueError(f'image {image.shape[:2]} and labels {labels.shape} differ in size')
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    painted = colorize_label_map(labels, palette, ignore_index).astype(np.float32)
    mask = (labels != ignore_index) & (labels >= 0) & (labels < len(palette))
    for label in skip_labels or ():
        mask &= labels != label
    out = image.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * painted[mask]
    return out.round().clip(0, 255).astype(np.uint8)
