# Copyright (c) mmgen_vision contributors. All rights reserved.
"""CLIP-style causal text transformer of GroupViT (no text projection matrix: the
:class:`ProjectionMLP` plays that role)."""
from typing import Optional

from torch import Tensor

from mmgen_vision.models.common.clip_text import CLIPTextTransformer
from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GroupViTTextEncoder(CLIPTextTransformer):
    """The shared :class:`CLIPTextTransformer` pooled at the end-of-text token.

    The end-of-text token has the largest id of the vocabulary, so the pooled position is
    ``ids.argmax(-1)`` (its first occurrence), as in CLIP. Keys, initialisation and numerics
    are those of the release's text tower.

    Args:
        context_length (int): Defaults to 77.
        vocab_size (int): Defaults to 49408 (CLIP BPE).
        width (int): Defaults to 256.
        layers (int): Defaults to 12.
        heads (int, optional): Defaults to ``width // 64`` (the official rule).
        with_cp (bool): Activation checkpointing of the blocks while training.
            Defaults to False.
    """

    def __init__(self, context_length: int = 77, vocab_size: int = 49408, width: int = 256,
                 layers: int = 12, heads: Optional[int] = None, with_cp: bool = False) -> None:
        heads = heads or max(width // 64, 1)
        super().__init__(context_length, vocab_size, width, layers, heads, with_cp=with_cp)
        self.heads = heads

    def forward(self, ids: Tensor) -> Tensor:
        """``ids (B, L)`` (``L <= context_length``) -> pooled features ``(B, width)``."""
        return self.eot_pool(super().forward(ids), ids)
