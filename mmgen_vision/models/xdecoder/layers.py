# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Attention / FFN layers of the X-Decoder pixel decoder and transformer decoder.

Post-norm (``norm(x + sublayer(x))``) or pre-norm layers over sequence-first tensors
``[L, B, C]`` (the layout of the release), with a fused ``in_proj`` (rows ``[q; k; v]``) and
:func:`torch.nn.functional.scaled_dot_product_attention`. Boolean attention masks follow the
PyTorch ``nn.MultiheadAttention`` convention: ``True`` = NOT allowed to attend.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MultiheadAttention(nn.Module):
    """Multi-head attention with ``in_proj_weight [3C, C]``, ``in_proj_bias`` and
    ``out_proj`` (same parameters as ``nn.MultiheadAttention``).

    Args:
        dim (int): Channels ``C``.
        num_heads (int): Heads ``h``.
        dropout (float): Attention dropout (training only).
    """

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Attention.

        Args:
            query (Tensor): ``[Lq, B, C]``.
            key (Tensor): ``[Lk, B, C]``.
            value (Tensor): ``[Lk, B, C]``.
            attn_mask (Tensor, optional): Bool ``[Lq, Lk]`` or ``[B * h, Lq, Lk]`` (batch-major),
                ``True`` = masked. A row must keep at least one key.

        Returns:
            Tensor: ``[Lq, B, C]``.
        """
        lq, b, c = query.shape
        h = self.num_heads
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)

        def heads(x, w, bias):
            return F.linear(x, w, bias).reshape(x.shape[0], b, h, c // h).permute(1, 2, 0, 3)

        q, k, v = heads(query, w_q, b_q), heads(key, w_k, b_k), heads(value, w_v, b_v)
        mask = None
        if attn_mask is not None:
            mask = ~attn_mask.view(b, h, lq, -1) if attn_mask.dim() == 3 else ~attn_mask
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.)
        return self.out_proj(out.permute(2, 0, 1, 3).reshape(lq, b, c))


def _with_pos(x: Tensor, pos: Optional[Tensor]) -> Tensor:
    return x if pos is None else x + pos


class SelfAttentionLayer(nn.Module):
    """``norm(x + attn(q=k=x+pos, v=x))`` (post-norm) or the pre-norm variant."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(dim, num_heads, dropout)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None,
                query_pos: Optional[Tensor] = None) -> Tensor:
        """``x [L, B, C]`` -> ``[L, B, C]``."""
        y = self.norm(x) if self.pre_norm else x
        qk = _with_pos(y, query_pos)
        x = x + self.dropout(self.self_attn(qk, qk, y, attn_mask))
        return x if self.pre_norm else self.norm(x)


class CrossAttentionLayer(nn.Module):
    """``norm(x + attn(q=x+query_pos, k=memory+pos, v=memory))`` (post-norm) or pre-norm."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.cross_attn = MultiheadAttention(dim, num_heads, dropout)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor, memory: Tensor, attn_mask: Optional[Tensor] = None,
                pos: Optional[Tensor] = None, query_pos: Optional[Tensor] = None) -> Tensor:
        """``x [Lq, B, C]``, ``memory [Lk, B, C]`` -> ``[Lq, B, C]``."""
        y = self.norm(x) if self.pre_norm else x
        out = self.cross_attn(_with_pos(y, query_pos), _with_pos(memory, pos), memory,
                              attn_mask)
        x = x + self.dropout(out)
        return x if self.pre_norm else self.norm(x)


class FFNLayer(nn.Module):
    """``norm(x + fc2(drop(relu(fc1(x)))))`` (post-norm) or pre-norm."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor) -> Tensor:
        """``x [L, B, C]`` -> ``[L, B, C]``."""
        y = self.norm(x) if self.pre_norm else x
        x = x + self.dropout(self.fc2(self.dropout(F.relu(self.fc1(y)))))
        return x if self.pre_norm else self.norm(x)


class EncoderLayer(nn.Module):
    """Transformer encoder layer of the pixel decoder: self-attention then FFN."""

    def __init__(self, dim: int, num_heads: int, hidden: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.attn = SelfAttentionLayer(dim, num_heads, dropout, pre_norm)
        self.ffn = FFNLayer(dim, hidden, dropout, pre_norm)

    def forward(self, x: Tensor, pos: Optional[Tensor] = None) -> Tensor:
        """``x [HW, B, C]`` -> ``[HW, B, C]``."""
        return self.ffn(self.attn(x, query_pos=pos))


class MLP(nn.Module):
    """``num_layers`` linear layers with ReLU in between (``layers.{i}``)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, num_layers: int) -> None:
        super().__init__()
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x
