# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Attention / FFN layers of the X-Decoder pixel decoder and transformer decoder.

Post-norm (``norm(x + sublayer(x))``) or pre-norm layers over sequence-first tensors
``(L, B, C)`` (the layout of the release) around :class:`torch.nn.MultiheadAttention` (the
release's parameters: fused ``in_proj`` with rows ``[q; k; v]`` and ``out_proj``). Boolean
attention masks follow its convention: ``True`` = NOT allowed to attend.
"""
from typing import Optional

from timm.layers import Mlp
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


class FFNLayer(Mlp):
    """``norm(x + fc2(drop(relu(fc1(x)))))`` (post-norm) or pre-norm: timm's :class:`Mlp`
    (``fc1``, ``fc2``: the release's ``linear1`` / ``linear2`` after conversion) with the
    residual and its LayerNorm ``norm`` around it."""

    def __init__(self, dim: int, hidden: int, dropout: float = 0.,
                 pre_norm: bool = False) -> None:
        super().__init__(dim, hidden, act_layer=nn.ReLU, drop=dropout)
        # the residual's LayerNorm over ``dim``, registered after ``fc2`` (Mlp's hidden-norm
        # slot is unused): the parameters keep the release's order, fc1, fc2, norm, which the
        # seeded initialisation and the optimizer's parameter list follow
        del self.norm
        self.norm = nn.LayerNorm(dim)
        self.pre_norm = pre_norm

    def forward(self, x: Tensor) -> Tensor:
        """``x (L, B, C)`` -> ``(L, B, C)``."""
        y = self.norm(x) if self.pre_norm else x
        x = x + self.drop2(self.fc2(self.drop1(self.act(self.fc1(y)))))
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
