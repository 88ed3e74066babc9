# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Images <-> rows of patch pixels (MAE layout), shared by the masked-image-modelling heads
and losses (Painter, GLID pre-training)."""
from typing import Optional, Sequence

from torch import Tensor


def patchify(imgs: Tensor, p: int) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, (H / p) * (W / p), p * p * C)``.

    Patches are row-major; the pixels of a patch are ordered ``(y, x, c)``.
    """
    b, c, h, w = imgs.shape
    if h % p or w % p:
        raise ValueError(f'image {h}x{w} is not a multiple of the patch size {p}')
    x = imgs.reshape(b, c, h // p, p, w // p, p)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(b, (h // p) * (w // p), p * p * c)


def unpatchify(x: Tensor, p: int, grid: Sequence[int], channels: Optional[int] = None) -> Tensor:
    """Inverse of :func:`patchify`: ``(B, Hp * Wp, p * p * C)`` -> ``(B, C, Hp p, Wp p)``.

    Args:
        x (Tensor): Patch rows.
        p (int): Patch side.
        grid (sequence[int]): Patch grid ``(Hp, Wp)``.
        channels (int, optional): ``C``; default ``x.shape[-1] / (p * p)``.
    """
    hp, wp = grid
    channels = channels or x.shape[-1] // (p * p)
    b = x.shape[0]
    x = x.reshape(b, hp, wp, p, p, channels)
    return x.permute(0, 5, 1, 3, 2, 4).reshape(b, channels, hp * p, wp * p)


__all__ = ['patchify', 'unpatchify']
