# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID's query-based transformer decoder (self-attention, then cross-attention over the
multi-scale features, then FFN; pre-norm), built from the shared
:class:`~mmgen_vision.models.common.attention.MultiheadAttention`, timm's ``Mlp`` and the
shared sine position embedding."""
import re
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from timm.layers import Mlp

from mmgen_vision.models.common.attention import MultiheadAttention
from mmgen_vision.models.common.pos_embed import sine_pos_embed_2d
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments

# a decoder layer's FFN key of checkpoints written while the FFN was an ``nn.Sequential``
_LEGACY_FFN_KEY = re.compile(r'^(.*layers\.\d+\.ffn\.)([02])\.(weight|bias)$')


def rename_legacy_ffn_keys(state_dict: dict, prefix: str = '') -> dict:
    """Rename, in place, the decoder-layer FFN keys of checkpoints written before the FFN was
    timm's ``Mlp``: ``...layers.<i>.ffn.0.*`` / ``.ffn.2.*`` -> ``.ffn.fc1.*`` / ``.ffn.fc2.*``.

    Args:
        state_dict (dict): A state dict (GLID model, pre-trainer or decoder keys).
        prefix (str): Only keys starting with it are renamed.

    Returns:
        dict: ``state_dict``.
    """
    for key in [k for k in state_dict if k.startswith(prefix)]:
        match = _LEGACY_FFN_KEY.match(key)
        if match:
            head, index, suffix = match.groups()
            new_key = f'{head}fc{1 if index == "0" else 2}.{suffix}'
            if new_key not in state_dict:
                state_dict[new_key] = state_dict.pop(key)
    return state_dict


class GLIDDecoderLayer(nn.Module):
    """Pre-norm self-attention -> cross-attention -> FFN on the queries (B, Q, C).

    Checkpoints written before the FFN became timm's ``Mlp`` (keys ``ffn.0`` / ``ffn.2``)
    still load: :func:`rename_legacy_ffn_keys` renames them on ``load_state_dict``.
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(dim)
        self.self_attn = MultiheadAttention(dim, num_heads, fused_qkv=False)
        self.norm_cross = nn.LayerNorm(dim)
        self.cross_attn = MultiheadAttention(dim, num_heads, fused_qkv=False)
        self.norm_ffn = nn.LayerNorm(dim)
        self.ffn = Mlp(dim, int(dim * mlp_ratio))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        rename_legacy_ffn_keys(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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
        mlp_ratio (float): FFN hidden channels / C. Defaults to 4.
        memory_levels (Sequence[int]): Indices of the BiFPN levels the queries attend to
            (0 = 1/4 scale). Defaults to (1, 2, 3): the 1/8-1/32 levels, as Mask2Former, so
            the 1/4 map stays the heads' dot-product target and attention stays affordable.
        with_cp (bool): Activation checkpointing of each layer. Defaults to False.
        init_cfg (dict, optional): Initialisation config.
    """

    @renamed_arguments(ffn_ratio='mlp_ratio')
    def __init__(self, embed_dims: int, num_layers: int = 6, num_heads: int = 8,
                 mlp_ratio: float = 4., memory_levels: Sequence[int] = (1, 2, 3),
                 with_cp: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'decoder num_layers must be >= 1, got {num_layers}')
        self.embed_dims = embed_dims
        self.memory_levels = tuple(memory_levels)
        self.with_cp = with_cp
        self.layers = nn.ModuleList(
            GLIDDecoderLayer(embed_dims, num_heads, mlp_ratio) for _ in range(num_layers))
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
