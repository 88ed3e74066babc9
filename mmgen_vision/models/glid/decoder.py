# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID's query-based transformer decoder (self-attention, then cross-attention over the
multi-scale features, then FFN; pre-norm; ``F.scaled_dot_product_attention``)."""
import math
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule

from mmgen_vision.registry import MODELS


def sine_pos_embed_2d(h: int, w: int, dim: int, device=None, dtype=None,
                      temperature: float = 10000.) -> torch.Tensor:
    """Fixed 2D sine-cosine embedding of an h x w grid, shape (h * w, dim), row-major.

    Half of the channels encode the row, half the column (``dim`` must be a multiple of 4).
    """
    if dim % 4 != 0:
        raise ValueError(f'sine_pos_embed_2d needs dim divisible by 4, got {dim}')
    quarter = dim // 4
    omega = 1. / temperature**(torch.arange(quarter, device=device, dtype=torch.float32) /
                               quarter)
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h * 2 * math.pi
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w * 2 * math.pi
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    oy = yy.flatten()[:, None] * omega[None]
    ox = xx.flatten()[:, None] * omega[None]
    emb = torch.cat([oy.sin(), oy.cos(), ox.sin(), ox.cos()], dim=1)
    return emb if dtype is None else emb.to(dtype)


class Attention(nn.Module):
    """Multi-head attention through ``F.scaled_dot_product_attention``.

    Args:
        dim (int): Width C of queries, keys and values.
        num_heads (int): Heads (C must be divisible by it).
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f'decoder width {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """q: (B, Nq, C); k, v: (B, Nk, C) -> (B, Nq, C)."""
        b, nq, c = q.shape
        h = self.num_heads

        def split(x):
            return x.view(b, -1, h, c // h).transpose(1, 2)

        out = F.scaled_dot_product_attention(split(self.q(q)), split(self.k(k)), split(self.v(v)))
        return self.proj(out.transpose(1, 2).reshape(b, nq, c))


class GLIDDecoderLayer(nn.Module):
    """Pre-norm self-attention -> cross-attention -> FFN on the queries (B, Q, C)."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: float = 4.) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(dim)
        self.self_attn = Attention(dim, num_heads)
        self.norm_cross = nn.LayerNorm(dim)
        self.cross_attn = Attention(dim, num_heads)
        self.norm_ffn = nn.LayerNorm(dim)
        hidden = int(dim * ffn_ratio)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, query: torch.Tensor, memory: torch.Tensor,
                memory_pos: torch.Tensor) -> torch.Tensor:
        """query: (B, Q, C); memory, memory_pos: (B, N, C) -> (B, Q, C)."""
        x = self.norm_self(query)
        query = query + self.self_attn(x, x, x)
        x = self.norm_cross(query)
        query = query + self.cross_attn(x, memory + memory_pos, memory)
        return query + self.ffn(self.norm_ffn(query))


@MODELS.register_module()
class GLIDTransformerDecoder(BaseModule):
    """Decode queries against the multi-scale features; the same module in pre-training and in
    every downstream task.

    Args:
        embed_dims (int): Width C (the BiFPN width).
        num_layers (int): Decoder depth (the paper's ablation: 3 / 6 / 9). Defaults to 6.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_ratio (float): FFN hidden width / C. Defaults to 4.
        memory_levels (Sequence[int]): Indices of the BiFPN levels the queries attend to
            (0 = 1/4 scale). Defaults to (1, 2, 3): the 1/8-1/32 levels, as Mask2Former, so
            the 1/4 map stays the heads' dot-product target and attention stays affordable.
        with_cp (bool): Activation checkpointing of each layer. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, embed_dims: int, num_layers: int = 6, num_heads: int = 8,
                 ffn_ratio: float = 4., memory_levels: Sequence[int] = (1, 2, 3),
                 with_cp: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'decoder num_layers must be >= 1, got {num_layers}')
        self.embed_dims = embed_dims
        self.memory_levels = tuple(memory_levels)
        self.with_cp = with_cp
        self.layers = nn.ModuleList(
            GLIDDecoderLayer(embed_dims, num_heads, ffn_ratio) for _ in range(num_layers))
        self.level_embed = nn.Parameter(torch.zeros(len(self.memory_levels), embed_dims))
        self.memory_norm = nn.LayerNorm(embed_dims)
        self.post_norm = nn.LayerNorm(embed_dims)

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def build_memory(self, feats: List[torch.Tensor]):
        """Flatten the chosen levels into memory (B, N, C) and its positions (B, N, C)."""
        mems, poss = [], []
        for k, lvl in enumerate(self.memory_levels):
            if lvl >= len(feats):
                raise ValueError(f'decoder memory level {lvl} but only {len(feats)} levels')
            f = feats[lvl]
            b, c, h, w = f.shape
            mems.append(f.flatten(2).transpose(1, 2))
            pos = sine_pos_embed_2d(h, w, c, device=f.device, dtype=f.dtype)
            poss.append((pos + self.level_embed[k].to(f.dtype)).unsqueeze(0).expand(b, -1, -1))
        return self.memory_norm(torch.cat(mems, 1)), torch.cat(poss, 1)

    def forward(self, queries: torch.Tensor, feats: List[torch.Tensor]) -> torch.Tensor:
        """Args:
            queries (Tensor): (B, Q, C).
            feats (list[Tensor]): BiFPN levels (B, C, h_l, w_l), finest first.

        Returns:
            Tensor: the post-normed output of every layer, (num_layers, B, Q, C); the last
            entry is the final answer, the others serve deep supervision.
        """
        memory, memory_pos = self.build_memory(feats)
        outs = []
        x = queries
        for layer in self.layers:
            if self.with_cp and x.requires_grad:
                x = cp.checkpoint(layer, x, memory, memory_pos, use_reentrant=False)
            else:
                x = layer(x, memory, memory_pos)
            outs.append(self.post_norm(x))
        return torch.stack(outs)
