# Copyright (c) mmgen_vision contributors. All rights reserved.
"""CLIP-style causal text transformer of GroupViT (no text projection matrix: the
:class:`ProjectionMLP` plays that role)."""
from typing import Optional

import torch
from torch import Tensor, nn

from mmgen_vision.models.common.clip_text import CLIPTextBlock
from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GroupViTTextEncoder(nn.Module):
    """Causal text transformer pooled at the end-of-text token.

    The end-of-text token has the largest id of the vocabulary, so the pooled position is
    ``ids.argmax(-1)`` (its first occurrence), as in CLIP.

    Args:
        context_length (int): Defaults to 77.
        vocab_size (int): Defaults to 49408 (CLIP BPE).
        width (int): Defaults to 256.
        layers (int): Defaults to 12.
        heads (int, optional): Defaults to ``width // 64`` (the official rule).
    """

    def __init__(self, context_length: int = 77, vocab_size: int = 49408, width: int = 256,
                 layers: int = 12, heads: Optional[int] = None) -> None:
        super().__init__()
        self.context_length = context_length
        self.width = width
        self.heads = heads or max(width // 64, 1)
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.layers = nn.ModuleList(CLIPTextBlock(width, self.heads) for _ in range(layers))
        self.ln_final = nn.LayerNorm(width)
        self.init_weights()

    def init_weights(self) -> None:
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        proj_std = self.width**-0.5 * (2 * len(self.layers))**-0.5
        attn_std = self.width**-0.5
        fc_std = (2 * self.width)**-0.5
        for block in self.layers:
            nn.init.normal_(block.attn.qkv.weight, std=attn_std)
            nn.init.zeros_(block.attn.qkv.bias)
            nn.init.normal_(block.attn.proj.weight, std=proj_std)
            nn.init.zeros_(block.attn.proj.bias)
            nn.init.normal_(block.ffn.fc1.weight, std=fc_std)
            nn.init.normal_(block.ffn.fc2.weight, std=proj_std)

    def forward(self, ids: Tensor) -> Tensor:
        """``ids [B, L]`` (``L <= context_length``) -> pooled features ``[B, width]``."""
        if ids.shape[-1] > self.context_length:
            raise ValueError(f'{ids.shape[-1]} tokens exceed context_length '
                             f'{self.context_length}')
        x = self.token_embedding(ids) + self.positional_embedding[:ids.shape[-1]]
        for block in self.layers:
            x = block(x)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0], device=x.device), ids.argmax(dim=-1)]
