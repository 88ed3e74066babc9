# Copyright (c) mmgen_vision contributors. All rights reserved.
"""One multi-head attention for every method, with an optional additive bias.

:func:`scaled_dot_product_attention` is ``softmax(q k^T / sqrt(d) + bias) v`` and picks the
fastest exact path for the mode it runs in:

* the fused :func:`torch.nn.functional.scaled_dot_product_attention` kernel whenever the bias
  needs no gradient (inference, no bias, a constant mask): on CPU the fused kernel is ~18 %
  faster than the explicit product at Painter's 28 x 14 tokens, dim 768;
* the explicit ``softmax(q k^T * scale + bias) @ v`` on CPU when autograd must reach the bias
  (a learned relative position bias in training): there SDPA gives up its fused kernel and
  falls back to an unfused math path that is slower than the explicit product
  (``tools/analysis_tools/painter_attention_benchmark.py`` measures it: -10 % for the
  attention's forward + backward, -2 % for a whole ViT-B Painter train step). A full bias
  enters as one ``baddbmm``. On CUDA the memory-efficient kernel differentiates the bias, so
  SDPA is kept. ``flex_attention`` with a ``score_mod`` is no option on CPU: torch 2.14 has no
  CPU backward for it.

Both paths compute the same quantity (they differ by float rounding only).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def explicit_attention(q: Tensor, k: Tensor, v: Tensor, attn_bias: Optional[Tensor] = None,
                       dropout_p: float = 0., is_causal: bool = False) -> Tensor:
    """Reference ``softmax(q k^T / sqrt(d) + bias) v``.

    Args:
        q (Tensor): ``(B, heads, N_q, d)``.
        k (Tensor): ``(B, heads, N_k, d)``.
        v (Tensor): ``(B, heads, N_k, d_v)``.
        attn_bias (Tensor, optional): Additive bias broadcastable to ``(B, heads, N_q, N_k)``
            (``-inf`` masks a pair), or a boolean mask (True = attend).
        dropout_p (float): Dropout on the attention weights.
        is_causal (bool): Query ``i`` sees keys ``<= i`` only.

    Returns:
        Tensor: ``(B, heads, N_q, d_v)``.
    """
    q = q * q.shape[-1]**-0.5
    shape = (*q.shape[:-1], k.shape[-2])
    if (attn_bias is not None and attn_bias.dtype != torch.bool
            and tuple(attn_bias.shape) == shape):
        # a full bias: one fused ``bias + q k^T`` GEMM (saves a pass over the N x N scores)
        attn = torch.baddbmm(attn_bias.reshape(-1, *shape[-2:]), q.reshape(-1, *q.shape[-2:]),
                             k.reshape(-1, *k.shape[-2:]).transpose(1, 2))
    else:
        attn = q @ k.transpose(-2, -1)
        if attn_bias is not None:
            if attn_bias.dtype == torch.bool:
                attn = attn.masked_fill(~attn_bias, float('-inf'))
            else:
                attn = attn + attn_bias
    if is_causal:
        causal = torch.ones(shape[-2:], dtype=torch.bool, device=q.device).tril()
        attn = attn.masked_fill(~causal, float('-inf'))
    # The scores stay 3-D ``(B * heads, N_q, N_k)`` from here: the same kernels as the 4-D
    # product (``matmul`` folds the batch dims into one ``bmm`` too), but inductor's layout
    # optimisation, on in a graph with convolutions, would store 4-D scores channels-last
    # (heads innermost), which ``bmm`` then copies matrix by matrix (Painter's compiled train
    # step: 1.5x slower than eager at one thread).
    attn = attn.reshape(-1, *shape[-2:]).softmax(dim=-1)
    if dropout_p > 0:
        attn = F.dropout(attn, p=dropout_p)
    out = torch.bmm(attn, v.expand(*shape[:-2], *v.shape[-2:]).reshape(-1, *v.shape[-2:]))
    return out.view(*shape[:-1], v.shape[-1])


def use_explicit_path(q: Tensor, attn_bias: Optional[Tensor]) -> bool:
    """True where the explicit product beats SDPA: CPU, autograd on, a bias that needs a
    gradient (SDPA's fused CPU kernel cannot differentiate ``attn_mask``)."""
    return (attn_bias is not None and q.device.type == 'cpu' and torch.is_grad_enabled()
            and attn_bias.requires_grad)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor,
                                 attn_bias: Optional[Tensor] = None, dropout_p: float = 0.,
                                 is_causal: bool = False) -> Tensor:
    """``softmax(q k^T / sqrt(d) + bias) v`` on the fastest exact path (see the module doc).

    Shapes as in :func:`explicit_attention`; a floating ``attn_bias`` is cast to ``q.dtype``.
    """
    if attn_bias is not None and attn_bias.dtype != torch.bool:
        attn_bias = attn_bias.to(q.dtype)
    if use_explicit_path(q, attn_bias):
        return explicit_attention(q, k, v, attn_bias, dropout_p, is_causal)
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=attn_bias, dropout_p=dropout_p, is_causal=is_causal)


class MultiheadAttention(nn.Module):
    """Multi-head attention over token sequences ``(B, N, C)`` with an optional bias.

    Parameter names follow the releases the converters map from: a fused ``qkv`` projection
    (rows ``[q; k; v]``, self-attention: ViT, CLIP) or separate ``q`` / ``k`` / ``v``
    projections (cross-attention), then ``proj``.

    Args:
        embed_dims (int): Channels ``C`` of queries, keys, values and output.
        num_heads (int): Heads (``C`` must be divisible by it).
        qkv_bias (bool): Bias in the input projections. Defaults to True.
        fused_qkv (bool): One ``qkv`` linear (self-attention only) instead of ``q``, ``k``,
            ``v``. Defaults to True.
        attn_drop (float): Dropout on the attention weights in training. Defaults to 0.
        proj_drop (float): Dropout after ``proj``. Defaults to 0.
    """

    def __init__(self, embed_dims: int, num_heads: int, qkv_bias: bool = True,
                 fused_qkv: bool = True, attn_drop: float = 0., proj_drop: float = 0.) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} is not divisible by num_heads {num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dim = embed_dims // num_heads
        self.fused_qkv = fused_qkv
        if fused_qkv:
            self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        else:
            self.q = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
            self.k = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
            self.v = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop) if proj_drop > 0 else nn.Identity()

    def split_heads(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, heads, N, C / heads)``."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, -1).transpose(1, 2)

    def in_proj(self, query: Tensor, key: Optional[Tensor] = None,
                value: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """Project to per-head ``q``, ``k``, ``v``, each ``(B, heads, N, C / heads)``.

        Self-attention when ``key`` is None; ``value`` defaults to ``key``.
        """
        if self.fused_qkv:
            if key is not None or value is not None:
                raise ValueError('a fused qkv projection attends a sequence to itself: build '
                                 'the attention with fused_qkv=False for cross-attention')
            b, n, _ = query.shape
            qkv = self.qkv(query).reshape(b, n, 3, self.num_heads, self.head_dim)
            return qkv.permute(2, 0, 3, 1, 4).unbind(0)
        key = query if key is None else key
        value = key if value is None else value
        return (self.split_heads(self.q(query)), self.split_heads(self.k(key)),
                self.split_heads(self.v(value)))

    def out_proj(self, out: Tensor) -> Tensor:
        """Per-head outputs ``(B, heads, N, C / heads)`` -> ``proj`` -> ``(B, N, C)``."""
        b, _, n, _ = out.shape
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, self.embed_dims)))

    def attend(self, q: Tensor, k: Tensor, v: Tensor, attn_bias: Optional[Tensor] = None,
               is_causal: bool = False) -> Tensor:
        """:func:`scaled_dot_product_attention` with this module's training-time dropout."""
        return scaled_dot_product_attention(
            q, k, v, attn_bias, dropout_p=self.attn_drop if self.training else 0.,
            is_causal=is_causal)

    def forward(self, query: Tensor, key: Optional[Tensor] = None,
                value: Optional[Tensor] = None, attn_bias: Optional[Tensor] = None,
                is_causal: bool = False) -> Tensor:
        """Attend.

        Args:
            query (Tensor): ``(B, N_q, C)``.
            key (Tensor, optional): ``(B, N_k, C)``; None: self-attention.
            value (Tensor, optional): ``(B, N_k, C)``; defaults to ``key``.
            attn_bias (Tensor, optional): Additive bias (or boolean mask, True = attend)
                broadcastable to ``(B, heads, N_q, N_k)``.
            is_causal (bool): Causal mask (query ``i`` sees keys ``<= i``).

        Returns:
            Tensor: ``(B, N_q, C)``.
        """
        q, k, v = self.in_proj(query, key, value)
        return self.out_proj(self.attend(q, k, v, attn_bias, is_causal))


__all__ = ['MultiheadAttention', 'scaled_dot_product_attention', 'explicit_attention',
           'use_explicit_path']
