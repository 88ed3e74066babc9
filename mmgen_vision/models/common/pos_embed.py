# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Position embeddings shared by the methods, built on the stock helpers.

* :func:`resize_pos_embed`: a learned absolute table resized to another token grid
  (timm ``resample_abs_pos_embed``, bicubic, no antialiasing) -- Painter, GroupViT.
* :func:`decomposed_rel_pos_bias`: the decomposed relative position bias of MViTv2 / ViTDet /
  SAM (timm ``get_rel_pos`` tables) -- Painter.
* :func:`sine_pos_embed_2d`: a fixed 2D sine-cosine embedding (mmdet
  ``SinePositionalEncoding``, channels regrouped) -- GLID.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.layers import SinePositionalEncoding
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer_sam import get_rel_pos
from torch import Tensor


def resize_pos_embed(pos_embed: Tensor, grid: Sequence[int], num_prefix_tokens: int = 0,
                     old_grid: Optional[Sequence[int]] = None) -> Tensor:
    """Absolute position table ``(1, P + S_h * S_w, C)`` -> ``(1, h * w, C)`` for an ``h x w``
    token grid, prefix (cls) slots dropped.

    Args:
        pos_embed (Tensor): Table with ``P = num_prefix_tokens`` leading slots, then the grid
            row-major.
        grid (sequence[int]): Target grid ``(h, w)``.
        num_prefix_tokens (int): Leading non-grid slots (1 for a cls slot).
        old_grid (sequence[int], optional): Grid of the table; default the square
            ``sqrt(S)``.

    Returns:
        Tensor: The table itself when the grids match, else the bicubic resize
        (``align_corners=False``, no antialiasing), ``(1, h * w, C)``.
    """
    slots = pos_embed.shape[1] - num_prefix_tokens
    if old_grid is None:
        side = int(math.sqrt(slots))
        if side * side != slots:
            raise ValueError(f'pos_embed with {slots} grid slots is not a square grid; pass '
                             'old_grid')
        old_grid = (side, side)
    grid, old_grid = [int(g) for g in grid], [int(g) for g in old_grid]
    if grid == old_grid:
        return pos_embed[:, num_prefix_tokens:]
    resized = resample_abs_pos_embed(pos_embed, grid, old_grid,
                                     num_prefix_tokens=num_prefix_tokens,
                                     interpolation='bicubic', antialias=False)
    return resized[:, num_prefix_tokens:]


def decomposed_rel_pos_bias(q: Tensor, rel_pos_h: Tensor, rel_pos_w: Tensor,
                            grid: Tuple[int, int], q_row_offset: int = 0,
                            full_rows: Optional[int] = None) -> Tensor:
    """The decomposed relative position bias (MViTv2 / ViTDet / SAM) as an additive bias.

    The tables come from timm's ``get_rel_pos`` (linearly resized to ``2 * size - 1`` rows);
    unlike timm's ``get_decomposed_rel_pos_bias`` the queries may be a band of grid rows (the
    query half of a canvas whose prompt half is cached).

    Args:
        q (Tensor): Unscaled queries ``(B, heads, q_h * W, C)``: the grid rows
            ``q_row_offset .. q_row_offset + q_h`` of a ``grid = (H, W)`` token grid.
        rel_pos_h (Tensor): Table along the height ``(L_h, C)``.
        rel_pos_w (Tensor): Table along the width ``(L_w, C)``.
        grid (tuple[int, int]): Key grid ``(H, W)``.
        q_row_offset (int): First grid row of the queries (0: the queries are the whole grid).
        full_rows (int, optional): Rows of the canvas the key grid is the top part of (the
            tables keep that canvas's geometry); default ``H``.

    Returns:
        Tensor: ``(B, heads, q_h * W, H * W)``,
        ``bias[.., (i, j), (k, l)] = q_ij . rel_pos_h[i - k] + q_ij . rel_pos_w[j - l]``.
    """
    k_h, k_w = grid
    b, heads, n, c = q.shape
    q_h = n // k_w
    full_rows = full_rows or k_h
    r_h = get_rel_pos(full_rows, full_rows, rel_pos_h)[q_row_offset:q_row_offset + q_h, :k_h]
    r_w = get_rel_pos(k_w, k_w, rel_pos_w)
    r_q = q.reshape(b, heads, q_h, k_w, c)
    bias_h = torch.einsum('bnhwc,hkc->bnhwk', r_q, r_h)
    bias_w = torch.einsum('bnhwc,wkc->bnhwk', r_q, r_w)
    bias = bias_h[..., :, None] + bias_w[..., None, :]
    return bias.reshape(b, heads, q_h * k_w, k_h * k_w)


def sine_pos_embed_2d(h: int, w: int, dim: int, device=None, dtype=None,
                      temperature: float = 10000.) -> Tensor:
    """Fixed 2D sine-cosine embedding of an ``h x w`` grid, ``(h * w, dim)`` row-major.

    mmdet's normalised ``SinePositionalEncoding`` at cell centres (``(i + 0.5) / h * 2 pi``,
    frequencies ``temperature^(-k / (dim / 4))``), channels regrouped from mmdet's interleaved
    ``[sin f0, cos f0, sin f1, ...]`` per axis to ``[sin(y f), cos(y f), sin(x f), cos(x f)]``
    (the layout GLID's checkpoints were trained with).

    Args:
        h, w (int): Grid size.
        dim (int): Channels, a multiple of 4 (half encode the row, half the column).
        device, dtype: Of the result (computed in float32).
        temperature (float): Frequency base.
    """
    if dim % 4 != 0:
        raise ValueError(f'sine_pos_embed_2d needs dim divisible by 4, got {dim}')
    encoding = SinePositionalEncoding(dim // 2, temperature=temperature, normalize=True,
                                      eps=0., offset=-0.5)
    pos = encoding(torch.zeros(1, h, w, dtype=torch.bool, device=device))  # (1, dim, h, w)
    # per axis: (freq, sin/cos) interleaved -> (sin/cos, freq) blocks
    pos = pos.reshape(2, dim // 4, 2, h * w).transpose(1, 2).reshape(dim, h * w).t()
    return pos if dtype is None else pos.to(dtype)


__all__ = ['resize_pos_embed', 'decomposed_rel_pos_bias', 'sine_pos_embed_2d']
