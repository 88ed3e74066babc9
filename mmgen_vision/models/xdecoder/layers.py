# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Attention / FFN layers of the X-Decoder pixel decoder and transformer decoder.

Post-norm (``norm(x + sublayer(x))``) or pre-norm layers over sequence-first tensors
``(L, B, C)`` (the layout of the release) around :class:`torch.nn.MultiheadAttention` (the
release's parameters: fused ``in_proj`` with rows ``[q; k; v]`` and ``out_proj``). Boolean
attention masks follow its convention: ``True`` = NOT allowed to attend.
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn


def attention(dim: int, num_heads: int, dropout: float = 0.) -> nn.MultiheadAttention:
    """Sequence-first :class:`torch.nn.MultiheadAttention` (``in_proj_weight (3C, C)``,
    ``in_proj_bias``, ``out_proj``: the release's parameter names)."""
    if dim % num_heads:
        raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
    return nn.MultiheadAttention(dim, num_heads, dropout=dropout)


def _with_pos(x: Tensor, pos: Optional[Tensor]) -> Tensor:
    return x if pos is None else x + pos


class SelfAttentionLayer(nn.Module):
    """``norm(x + attn(q=k=x+pos, v=x))`` (post-norm) or the pre-norm variant."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.self_attn = attention(dim, num_heads, dropout)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None,
                query_pos: Optional[Tensor] = None) -> Tensor:
        """``x (L, B, C)`` -> ``(L, B, C)``."""
        y = self.norm(x) if self.pre_norm else x
        qk = _with_pos(y, query_pos)
        out = self.self_attn(qk, qk, y, attn_mask=attn_mask, need_weights=False)[0]
        x = x + self.dropout(out)
        return x if self.pre_norm else self.norm(x)


class CrossAttentionLayer(nn.Module):
    """``norm(x + attn(q=x+query_pos, k=memory+pos, v=memory))`` (post-norm) or pre-norm."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__()
        self.cross_attn = attention(dim, num_heads, dropout)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor, memory: Tensor, attn_mask: Optional[Tensor] = None,
                pos: Optional[Tensor] = None, query_pos: Optional[Tensor] = None) -> Tensor:
        """``x (Lq, B, C)``, ``memory (Lk, B, C)`` -> ``(Lq, B, C)``."""
        y = self.norm(x) if self.pre_norm else x
        out = self.cross_attn(_with_pos(y, query_pos), _with_pos(memory, pos), memory,
                              attn_mask=attn_mask, need_weights=False)[0]
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
        """``x (L, B, C)`` -> ``(L, B, C)``."""
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
        """``x (HW, B, C)`` -> ``(HW, B, C)``."""
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
