# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's contrastive objectives: gathering across processes and the multi-label targets.

Notation: ``B`` local images, ``B_all`` gathered over the processes, ``K`` prompts per image,
``L`` tokens per prompt, ``M`` caption nouns per image.
"""
from typing import Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor


def _dist_info() -> Tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` of every process along dim 0, keeping gradients to every copy.

    Identity when ``torch.distributed`` is not initialised or the world size is 1.
    """
    _, world_size = _dist_info()
    if world_size == 1:
        return x
    from torch.distributed.nn.functional import all_gather
    return torch.cat(all_gather(x), dim=0)


def all_gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` of every process along dim 0 (no gradient; any dtype)."""
    _, world_size = _dist_info()
    if world_size == 1:
        return x
    chunks = [torch.empty_like(x) for _ in range(world_size)]
    dist.all_gather(chunks, x.contiguous())
    return torch.cat(chunks, dim=0)


def same_text_targets(own_ids: Tensor, all_ids: Tensor) -> Tensor:
    """Multi-hot matrix ``(B, N)``: entry ``(i, n)`` is 1 when text ``n`` of ``all_ids``
    (``(N, L)``) is token-identical to one of image ``i``'s own texts (``own_ids``
    ``(B, K, L)``)."""
    equal = (own_ids[:, :, None, :] == all_ids[None, None]).all(dim=-1)  # (B, K, N)
    return equal.any(dim=1).to(torch.float32)


def same_noun_targets(prompt_noun_ids: Tensor, caption_noun_ids: Tensor, own: Tensor) -> Tensor:
    """Multi-hot matrix ``(B, N)``: entry ``(i, n)`` is 1 when the noun of prompt ``n``
    (``prompt_noun_ids`` ``[N]``, -1 for a prompt that is no noun) is one of image ``i``'s
    caption nouns (``caption_noun_ids`` ``(B, M)``, -1 padded), or when ``own[i, n]`` (the
    prompt was drawn from image ``i``'s caption)."""
    hit = (prompt_noun_ids[None, :, None] == caption_noun_ids[:, None, :]).any(dim=-1)
    hit &= (prompt_noun_ids >= 0)[None, :]
    return (hit | own).to(torch.float32)


def soft_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean over rows of ``-sum(target * log_softmax(logits))``."""
    return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()


def multi_label_targets(b: int,
                        k: int,
                        device: torch.device,
                        positives: str = 'release',
                        text_ids: Optional[Tensor] = None,
                        noun_ids: Optional[Tensor] = None,
                        caption_noun_ids: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Soft targets of the multi-label losses for ``b`` local images with ``k`` prompts each.

    Args:
        b (int): Local images.
        k (int): Prompts per image.
        device (torch.device): Device of the targets.
        positives (str): Which gathered prompts are positives of an image. ``'release'``: its
            own prompts only (``1/K`` each; a prompt's own image). ``'same_text'``: every
            prompt token-identical to one of its own (``text_ids`` ``(B, K, L)``).
            ``'same_noun'``: every prompt whose noun is one of its caption's nouns
            (``noun_ids`` ``(B, K)``, ``caption_noun_ids`` ``(B, M)``; see
            :func:`same_noun_targets`).

    Returns:
        tuple: ``target_image`` ``(B, B_all K)`` (image ``i`` over every gathered prompt) and
        ``target_text`` ``(B K, B_all)`` (prompt ``p`` over every gathered image), each row
        summing to 1.
    """
    if positives not in ('release', 'same_text', 'same_noun'):
        raise ValueError(f"positives must be 'release', 'same_text' or 'same_noun', got "
                         f'{positives!r}')
    rank, world_size = _dist_info()
    b_all = b * world_size
    if positives == 'same_noun':
        if noun_ids is None or caption_noun_ids is None:
            raise ValueError('multi_label_same_noun_positive needs noun_ids and '
                             'caption_noun_ids (ExtractNouns adds them)')
        all_noun_ids = all_gather_no_grad(noun_ids)  # (B_all, K)
        all_caption_ids = all_gather_no_grad(caption_noun_ids)  # (B_all, M)
        b_all = all_noun_ids.shape[0]
        # owner[n]: the gathered image each gathered prompt was drawn from
        owner = torch.arange(b_all, device=device).repeat_interleave(k)
        local = torch.arange(b, device=device) + rank * b
        own_image = local[:, None] == owner[None, :]  # (B, B_all K)
        own_text = owner[rank * b * k:(rank + 1) * b * k, None] == torch.arange(
            b_all, device=device)[None, :]  # (B K, B_all)
        target_image = same_noun_targets(all_noun_ids.flatten(), caption_noun_ids,
                                         own_image)
        target_text = same_noun_targets(noun_ids.flatten(), all_caption_ids,
                                        own_text.t()).t()
        target_image = target_image / target_image.sum(-1, keepdim=True)
        target_text = target_text / target_text.sum(-1, keepdim=True)
    elif positives == 'same_text':
        if text_ids is None:
            raise ValueError('multi_label_same_text_positive needs the prompt token ids')
        all_ids = all_gather_no_grad(text_ids)  # (B_all, K, L)
        # image i vs every gathered prompt; prompt p vs every gathered image
        target_image = same_text_targets(text_ids, all_ids.flatten(0, 1))
        target_text = same_text_targets(all_ids, text_ids.flatten(0, 1)).t()
        target_image = target_image / target_image.sum(-1, keepdim=True)
        target_text = target_text / target_text.sum(-1, keepdim=True)
    else:
        rows = torch.arange(b, device=device)
        target_image = torch.zeros(b, b_all * k, device=device)
        cols = (rank * b + rows)[:, None] * k + torch.arange(k, device=device)
        target_image[rows[:, None], cols] = 1. / k
        target_text = torch.zeros(b * k, b_all, device=device)
        target_text[torch.arange(b * k, device=device),
                    (rank * b + rows).repeat_interleave(k)] = 1.
    return target_image, target_text
