# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Pure-numpy rasterisation on the pixel grid.

Pixel ``(row i, column j)`` covers ``[j, j + 1) x [i, i + 1)`` in continuous image coordinates and
is inside a primitive iff its centre ``(j + 0.5, i + 0.5)`` is. Every mask is therefore an exact
function of the primitive's parameters at the image resolution (no anti-aliasing), so an object's
instance mask is exactly the set of pixels painted in its colour.
"""
from typing import Sequence, Tuple

import numpy as np


def pixel_centres(size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates of a ``size x size`` grid.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``xs`` of shape (1, size) and ``ys`` of shape (size, 1),
        broadcastable to (size, size).
    """
    centres = np.arange(size, dtype=np.float64) + 0.5
    return centres[None, :], centres[:, None]


def disc_mask(size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """Pixels whose centre lies in the closed disc.

    Returns:
        np.ndarray: Bool mask of shape (size, size).
    """
    xs, ys = pixel_centres(size)
    return (xs - cx)**2 + (ys - cy)**2 <= radius**2


def polygon_mask(size: int, vertices: np.ndarray) -> np.ndarray:
    """Even-odd fill of a simple (possibly non-convex) polygon.

    Args:
        size (int): Side of the square grid.
        vertices (np.ndarray): Polygon vertices (x, y) of shape (N, 2), N >= 3.

    Returns:
        np.ndarray: Bool mask of shape (size, size).
    """
    xs, ys = pixel_centres(size)
    inside = np.zeros((size, size), dtype=bool)
    verts = np.asarray(vertices, dtype=np.float64)
    for (x1, y1), (x2, y2) in zip(verts, np.roll(verts, -1, axis=0)):
        if y1 == y2:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (y1 > ys) != (y2 > ys)  # (size, 1)
        x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)  # (size, 1)
        inside ^= crosses & (xs < x_at)
    return inside


def capsule_mask(size: int, p: Sequence[float], q: Sequence[float], radius: float) -> np.ndarray:
    """Pixels within ``radius`` of the segment ``p-q`` (a thick line with round caps).

    Returns:
        np.ndarray: Bool mask of shape (size, size).
    """
    xs, ys = pixel_centres(size)
    px, py = float(p[0]), float(p[1])
    dx, dy = float(q[0]) - px, float(q[1]) - py
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return disc_mask(size, px, py, radius)
    t = np.clip(((xs - px) * dx + (ys - py) * dy) / length2, 0.0, 1.0)
    return (xs - px - t * dx)**2 + (ys - py - t * dy)**2 <= radius**2


def regular_polygon(cx: float, cy: float, radius: float, num: int, angle: float) -> np.ndarray:
    """Vertices of a regular ``num``-gon (circumradius ``radius``, first vertex at ``angle``).

    Angles are in radians, measured in image coordinates (y down); ``-pi / 2`` points up.

    Returns:
        np.ndarray: Vertices (x, y) of shape (num, 2).
    """
    thetas = angle + 2.0 * np.pi * np.arange(num) / num
    return np.stack([cx + radius * np.cos(thetas), cy + radius * np.sin(thetas)], axis=1)


def star_polygon(cx: float, cy: float, outer: float, inner: float, angle: float) -> np.ndarray:
    """Vertices of a five-pointed star, alternating outer and inner radius.

    Returns:
        np.ndarray: Vertices (x, y) of shape (10, 2).
    """
    thetas = angle + np.pi * np.arange(10) / 5.0
    radii = np.where(np.arange(10) % 2 == 0, outer, inner)
    return np.stack([cx + radii * np.cos(thetas), cy + radii * np.sin(thetas)], axis=1)


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise: a ``(cells + 1)^2`` grid of N(0, 1) values, bilinearly upsampled.

    Returns:
        np.ndarray: Float array of shape (size, size), roughly zero-mean, unit-scale.
    """
    grid = rng.standard_normal((cells + 1, cells + 1))
    pos = (np.arange(size) + 0.5) * cells / size
    i0 = np.minimum(pos.astype(np.int64), cells - 1)
    w = pos - i0
    rows = grid[i0] * (1 - w)[:, None] + grid[i0 + 1] * w[:, None]  # (size, cells + 1)
    return rows[:, i0] * (1 - w)[None, :] + rows[:, i0 + 1] * w[None, :]


def mask_bbox(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """Tight COCO box ``(x, y, w, h)`` of a non-empty mask, in whole pixels.

    Returns:
        tuple[int, int, int, int]: Box such that the mask lies in columns ``x .. x + w - 1`` and
        rows ``y .. y + h - 1``.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, 0, 0, 0
    return (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def box_blur3(img: np.ndarray) -> np.ndarray:
    """3x3 box blur with edge replication.

    Args:
        img (np.ndarray): Array of shape (H, W) or (H, W, C).

    Returns:
        np.ndarray: Float64 array of the same shape.
    """
    pad = [(1, 1), (1, 1)] + [(0, 0)] * (img.ndim - 2)
    padded = np.pad(img.astype(np.float64), pad, mode='edge')
    h, w = img.shape[:2]
    out = np.zeros(img.shape, dtype=np.float64)
    for di in range(3):
        for dj in range(3):
            out += padded[di:di + h, dj:dj + w]
    return out / 9.0
