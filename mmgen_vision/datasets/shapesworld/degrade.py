# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Synthetic degradations for the restoration pairs (the clean scene image is the target).

All functions take a uint8 RGB image of shape (H, W, 3) and a numpy ``Generator`` and return a
uint8 image of the same shape.
"""
import numpy as np

from .raster import box_blur3


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] to uint8 with rounding and clipping."""
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def sensor_noise(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson-Gaussian (heteroscedastic) sensor noise, as in real-noise benchmarks like SIDD.

    The noise variance is ``a * x + b ** 2`` for intensity ``x`` in [0, 1], with a shot-noise gain
    ``a`` in [0.002, 0.01] and a read-noise level ``b`` in [0.01, 0.04] drawn per image.
    """
    x = image.astype(np.float64) / 255.0
    shot, read = rng.uniform(0.002, 0.01), rng.uniform(0.01, 0.04)
    sigma = np.sqrt(shot * x + read**2)
    return _to_uint8(x + sigma * rng.standard_normal(x.shape))


def rain_streaks(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bright, slanted, semi-transparent streaks blended over the image (Rain13K-like).

    One dominant direction per image (within 20 degrees of vertical), 150-350 streaks per
    96 x 96 image (scaled with the area), each 6-16% of the image side long.
    """
    size_h, size_w = image.shape[:2]
    num = int(rng.uniform(150, 350) * size_h * size_w / 96.0**2)
    base = rng.uniform(-0.35, 0.35)
    angles = base + rng.uniform(-0.05, 0.05, num)
    lengths = rng.uniform(0.06, 0.16, num) * size_h
    starts = rng.uniform([-0.1 * size_w, -0.2 * size_h], [1.1 * size_w, size_h], (num, 2))
    weights = rng.uniform(0.5, 1.0, num)
    steps = int(np.ceil(2 * lengths.max())) + 1
    t = np.linspace(0.0, 1.0, steps)[None, :]
    xs = starts[:, :1] + np.sin(angles)[:, None] * lengths[:, None] * t
    ys = starts[:, 1:] + np.cos(angles)[:, None] * lengths[:, None] * t
    cols, rows = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    inside = (cols >= 0) & (cols < size_w) & (rows >= 0) & (rows < size_h)
    layer = np.zeros((size_h, size_w))
    np.maximum.at(layer, (rows[inside], cols[inside]),
                  np.broadcast_to(weights[:, None], xs.shape)[inside])
    layer = 0.6 * layer + 0.4 * box_blur3(layer)
    alpha = rng.uniform(0.5, 0.8) * layer[..., None]
    x = image.astype(np.float64) / 255.0
    return _to_uint8(x * (1 - alpha) + alpha * (235.0 / 255.0))


def low_light(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Under-exposure like LOL: gamma curve, gain, then sensor noise on the dark image.

    ``low = gain * x ** gamma + n`` with gamma in [1.4, 2.2], gain in [0.12, 0.3] and Gaussian
    noise of standard deviation 0.004-0.015.
    """
    x = image.astype(np.float64) / 255.0
    gamma, gain = rng.uniform(1.4, 2.2), rng.uniform(0.12, 0.3)
    sigma = rng.uniform(0.004, 0.015)
    return _to_uint8(gain * x**gamma + sigma * rng.standard_normal(x.shape))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (``inf`` when identical)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return float('inf') if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))
