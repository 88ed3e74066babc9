# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Task-dependent self-attention masks of the X-Decoder decoder (``True`` = may NOT attend).

Sequence order inside one decoder layer's self-attention::

    [ latent queries (Q - 1 object + 1 global, global LAST) |
      grounding queries (copies of the Q - 1 object queries) |
      text queries (caption tokens / VQA question tokens) |
      grounding (referring-phrase) tokens ]

Rules (release):

* object queries and the global query do not see each other; both see themselves and the
  other queries of their group, and never any text or grounding row;
* the grounding block (copied object queries + phrase tokens) attends fully inside itself and
  sees nothing else (referring segmentation);
* text queries see every latent query and, among themselves, only earlier tokens
  (captioning, ``causal=True``) or all of them (VQA, ``causal=False``); they do not see the
  grounding block.
"""
from typing import Optional

import torch
from torch import Tensor


def build_self_attn_mask(num_queries: int, num_grounding_queries: int = 0,
                         num_text: int = 0, num_grounding_tokens: int = 0,
                         causal: bool = True, device=None) -> Tensor:
    """Self-attention mask for the given numbers of rows.

    Args:
        num_queries (int): Latent queries ``Q`` including the global query (last).
        num_grounding_queries (int): Copies of the object queries for grounding (``Q - 1``
            for referring segmentation, else 0).
        num_text (int): Text queries (caption / question tokens).
        num_grounding_tokens (int): Referring-phrase tokens.
        causal (bool): Causal text queries (captioning) or bidirectional (VQA).

    Returns:
        Tensor: Bool ``(L, L)``, ``L`` the sum of the four numbers.
    """
    q, g, t, p = num_queries, num_grounding_queries, num_text, num_grounding_tokens
    size = q + g + t + p
    mask = torch.ones(size, size, dtype=torch.bool, device=device)
    # latent block: all but object <-> global
    mask[:q, :q] = False
    mask[:q - 1, q - 1] = True
    mask[q - 1, :q - 1] = True
    # grounding block: copied queries and phrase tokens, fully connected
    grd = torch.cat([torch.arange(q, q + g), torch.arange(q + g + t, size)]).to(mask.device)
    if len(grd):
        mask[grd[:, None], grd[None, :]] = False
    # text queries: see all latent queries, causal (or full) among themselves
    if t:
        text = slice(q + g, q + g + t)
        mask[text, :q] = False
        mask[text, text] = (torch.ones(t, t, dtype=torch.bool, device=mask.device).triu(1)
                            if causal else False)
    return mask


def expand_self_attn_mask(mask: Tensor, batch_size: int, num_heads: int,
                          key_padding: Optional[Tensor] = None) -> Tensor:
    """Per batch and head copy ``(B * h, L, L)`` of ``mask (L, L)``.

    Args:
        key_padding (Tensor, optional): Bool ``(B, L)``, ``True`` for padded rows/keys (e.g.
            padded phrase tokens) that nobody may attend to (a row keeps its own key so that it
            is never empty).
    """
    out = mask[None].expand(batch_size, -1, -1).clone()
    if key_padding is not None:
        out = out | key_padding[:, None, :]
        eye = torch.eye(mask.shape[0], dtype=torch.bool, device=mask.device)[None]
        out = out & ~(eye & key_padding[:, :, None])
    return out.repeat_interleave(num_heads, dim=0)


__all__ = ['build_self_attn_mask', 'expand_self_attn_mask']
