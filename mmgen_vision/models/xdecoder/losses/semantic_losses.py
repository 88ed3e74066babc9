# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder's semantic losses on ``O^s``: image-text contrastive and captioning."""
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor


def _rank_and_world() -> tuple:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def image_text_contrastive_loss(image_embeds: Tensor,
                                text_embeds: Tensor,
                                logit_scale: Tensor,
                                max_scale: float = 100.0) -> Tensor:
    """Bidirectional image-text contrastive loss (CLIP / paper eq. ``L_it``).

    Both embeddings are L2-normalised; ``S = min(exp(logit_scale), max_scale) * I T^T`` where,
    in distributed training, the other side is gathered from every process *with* gradients
    (``torch.distributed.nn.all_gather``, as GroupViT does), so every image of a rank is scored
    against the texts of the global batch and vice versa (equal batch sizes per rank). The
    targets are the diagonal of the global matrix. The two cross-entropies are averaged
    (the paper writes their sum; the average keeps the CLIP scale of the loss).

    Args:
        image_embeds (Tensor): ``(B, D)`` global-query semantic embeddings.
        text_embeds (Tensor): ``(B, D)`` pooled caption embeddings (row i pairs with image i).
        logit_scale (Tensor): Scalar, the log of the temperature's inverse.
        max_scale (float): Clamp of ``exp(logit_scale)``. Defaults to 100.

    Returns:
        Tensor: Scalar loss.
    """
    if image_embeds.shape != text_embeds.shape or image_embeds.dim() != 2:
        raise ValueError('image_embeds and text_embeds must both be (B, D), got '
                         f'{tuple(image_embeds.shape)} and {tuple(text_embeds.shape)}')
    image = F.normalize(image_embeds.float(), dim=-1)
    text = F.normalize(text_embeds.float(), dim=-1)
    rank, world_size = _rank_and_world()
    if world_size > 1:
        from torch.distributed.nn.functional import all_gather
        all_image = torch.cat(all_gather(image), dim=0)
        all_text = torch.cat(all_gather(text), dim=0)
    else:
        all_image, all_text = image, text
    scale = logit_scale.float().exp().clamp(max=max_scale)
    target = torch.arange(image.shape[0], device=image.device) + rank * image.shape[0]
    loss_i2t = F.cross_entropy(scale * image @ all_text.t(), target)
    loss_t2i = F.cross_entropy(scale * text @ all_image.t(), target)
    return (loss_i2t + loss_t2i) / 2


def caption_loss(logits: Tensor, tokens: Tensor, token_mask: Tensor) -> Tensor:
    """Next-token cross-entropy of captioning, padding ignored.

    The logits at position ``t`` predict token ``t + 1``: the loss is the mean over the valid
    targets ``{(b, t): token_mask[b, t + 1]}`` of ``CE(logits[b, t], tokens[b, t + 1])``.

    Args:
        logits (Tensor): ``(B, T, V)`` token logits.
        tokens (Tensor): ``(B, T)`` long token ids (start token first).
        token_mask (Tensor): ``(B, T)`` bool, True on real tokens (not padding).

    Returns:
        Tensor: Scalar loss (0 connected to the graph when no target is valid).
    """
    if logits.shape[:2] != tokens.shape or tokens.shape != token_mask.shape:
        raise ValueError(f'pred_captions {tuple(logits.shape)} must be (B, T, V) with '
                         f'caption_tokens / caption_mask (B, T); got {tuple(tokens.shape)} and '
                         f'{tuple(token_mask.shape)}')
    valid = token_mask[:, 1:].bool()
    if not valid.any():
        return logits.sum() * 0
    return F.cross_entropy(logits[:, :-1][valid].float(), tokens[:, 1:][valid])
