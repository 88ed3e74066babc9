# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A CLIP-style causal text transformer returning every token's feature.

Pre-norm blocks (``x + attn(ln1(x))``, ``x + ffn(ln2(x))``) with a QuickGELU MLP, a causal
attention mask and a final LayerNorm. Unlike :class:`GroupViTTextEncoder` it returns the whole
sequence ``(B, L, width)`` (captioning and referring queries need the tokens), and the
LayerNorm epsilon and the head count are arguments (X-Decoder: eps 1e-12, 8 heads).
"""
import torch
import torch.nn.functional as F
from timm.layers import Mlp
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmgen_vision.models.common.attention import MultiheadAttention
from mmgen_vision.registry import MODELS


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)`` (CLIP)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


class FP32LayerNorm(nn.LayerNorm):
    """LayerNorm computed in at least float32: half / bfloat16 inputs are upcast (AMP-safe
    for tiny eps), float32 / float64 inputs keep their precision."""

    def forward(self, x: Tensor) -> Tensor:
        dtype = torch.promote_types(x.dtype, torch.float32)
        out = F.layer_norm(x.to(dtype), self.normalized_shape, self.weight.to(dtype),
                           self.bias.to(dtype), self.eps)
        return out.to(x.dtype)


class CLIPTextBlock(nn.Module):
    """Pre-norm causal transformer block of the CLIP text tower: the shared
    :class:`MultiheadAttention` (fused ``qkv``) and timm's ``Mlp`` with QuickGELU."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: int = 4,
                 eps: float = 1e-5) -> None:
        super().__init__()
        self.ln1 = FP32LayerNorm(dim, eps=eps)
        self.attn = MultiheadAttention(dim, num_heads)
        self.ln2 = FP32LayerNorm(dim, eps=eps)
        self.ffn = Mlp(dim, dim * mlp_ratio, act_layer=QuickGELU)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, L, C)`` -> ``(B, L, C)``; token ``i`` attends to tokens ``<= i``."""
        x = x + self.attn(self.ln1(x), is_causal=True)
        return x + self.ffn(self.ln2(x))


@MODELS.register_module()
class CLIPTextTransformer(nn.Module):
    """Causal CLIP text transformer: ids ``(B, L)`` -> token features ``(B, L, width)``.

    Args:
        context_length (int): Maximum sequence length. Defaults to 77.
        vocab_size (int): Defaults to 49408 (CLIP BPE).
        width (int): Defaults to 512.
        layers (int): Defaults to 12.
        heads (int): Defaults to 8.
        eps (float): LayerNorm epsilon. Defaults to 1e-5 (X-Decoder uses 1e-12).
        with_cp (bool): Activation checkpointing of the blocks while training.
            Defaults to False.
    """

    def __init__(self, context_length: int = 77, vocab_size: int = 49408, width: int = 512,
                 layers: int = 12, heads: int = 8, eps: float = 1e-5,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.context_length = context_length
        self.width = width
        self.with_cp = with_cp
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.layers = nn.ModuleList(
            CLIPTextBlock(width, heads, eps=eps) for _ in range(layers))
        self.ln_final = FP32LayerNorm(width, eps=eps)
        self.init_weights()

    def init_weights(self) -> None:
        """CLIP initialisation."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        proj_std = self.width**-0.5 * (2 * max(len(self.layers), 1))**-0.5
        for block in self.layers:
            nn.init.normal_(block.attn.qkv.weight, std=self.width**-0.5)
            nn.init.zeros_(block.attn.qkv.bias)
            nn.init.normal_(block.attn.proj.weight, std=proj_std)
            nn.init.zeros_(block.attn.proj.bias)
            nn.init.normal_(block.ffn.fc1.weight, std=(2 * self.width)**-0.5)
            nn.init.normal_(block.ffn.fc2.weight, std=proj_std)

    def forward(self, ids: Tensor) -> Tensor:
        """``ids (B, L)`` (``L <= context_length``) -> token features ``(B, L, width)``."""
        if ids.shape[-1] > self.context_length:
            raise ValueError(f'{ids.shape[-1]} tokens exceed context_length '
                             f'{self.context_length}')
        x = self.token_embedding(ids) + self.positional_embedding[:ids.shape[-1]]
        for block in self.layers:
            if self.with_cp and self.training and x.requires_grad:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.ln_final(x)

    @staticmethod
    def eot_pool(features: Tensor, ids: Tensor) -> Tensor:
        """Feature at the first end-of-text token (the largest id): ``(B, L, C)`` -> ``(B, C)``.
        """
        index = ids.argmax(dim=-1)
        return features[torch.arange(features.shape[0], device=features.device), index]


__all__ = ['CLIPTextTransformer', 'QuickGELU', 'FP32LayerNorm']
