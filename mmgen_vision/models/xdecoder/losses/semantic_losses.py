# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder's semantic losses on ``O^s``: image-text contrastive (global and query-token)
and captioning."""
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


def query_token_contrastive_loss(query_embeds: Tensor,
                                 token_embeds: Tensor,
                                 token_mask: Tensor,
                                 logit_scale: Tensor,
                                 max_scale: float = 100.0) -> Tensor:
    """Fine-grained (object query <-> caption token) contrastive term of the release's
    retrieval loss.

    Every caption token ``k`` of image ``i`` is scored against image ``j`` by the mean over
    ``j``'s object queries of the cosine between query and token,
    ``s(j, k) = scale * mean_q cos(q_jq, t_k)``. The targets of image ``i`` are its own caption's
    valid tokens (SOT..EOT), weighted by their position ``1, 2, ..., n`` (later tokens of the
    causal text encoder have seen more of the caption) and normalised to sum 1. With
    ``SCE(x, y) = mean_rows sum_cols -y log_softmax(x)``:
    ``0.7 * SCE(s, targets) + 0.3 * SCE(s^T, targets^T)`` (image -> tokens, tokens -> image; the
    release computes it on the local batch).

    Args:
        query_embeds (Tensor): ``(B, Q, D)`` semantic embeddings of the object queries (the
            global query excluded).
        token_embeds (Tensor): ``(B, T, D)`` token embeddings of the captions (language
            encoder output through ``lang_proj``), caption ``b`` paired with image ``b``.
        token_mask (Tensor): ``(B, T)`` bool, True on SOT..EOT.
        logit_scale (Tensor): Scalar, the log of the temperature's inverse.
        max_scale (float): Clamp of ``exp(logit_scale)``. Defaults to 100.

    Returns:
        Tensor: Scalar loss.
    """
    if query_embeds.dim() != 3 or token_embeds.dim() != 3 or \
            query_embeds.shape[0] != token_embeds.shape[0] or \
            token_mask.shape != token_embeds.shape[:2]:
        raise ValueError('need query_embeds (B, Q, D), token_embeds (B, T, D) and token_mask '
                         f'(B, T); got {tuple(query_embeds.shape)}, {tuple(token_embeds.shape)} '
                         f'and {tuple(token_mask.shape)}')
    keep = token_mask.bool()
    if not keep.any():
        return query_embeds.sum() * 0 + token_embeds.sum() * 0
    batch = query_embeds.shape[0]
    queries = F.normalize(query_embeds.float(), dim=-1)
    tokens = F.normalize(token_embeds.float(), dim=-1)[keep]  # (K, D)
    position = keep.float().cumsum(dim=1)[keep]  # 1..n inside each caption
    owner = torch.arange(batch, device=keep.device)[:, None].expand_as(keep)[keep]
    targets = query_embeds.new_zeros(batch, tokens.shape[0], dtype=torch.float32)
    targets[owner, torch.arange(tokens.shape[0], device=keep.device)] = position
    targets = targets / targets.sum(dim=1, keepdim=True).clamp(min=1e-7)
    scale = logit_scale.float().exp().clamp(max=max_scale)
    # the mean over queries of the query-token similarities, taken on the queries first (the
    # same sum, and einsum's backward view fails under torch.compile's AOTAutograd)
    logits = scale * queries.mean(dim=1) @ tokens.t()  # (B, K)
    loss_i2t = -(targets * logits.log_softmax(dim=1)).sum(dim=1).mean()
    loss_t2i = -(targets.t() * logits.t().log_softmax(dim=1)).sum(dim=1).mean()
    return 0.7 * loss_i2t + 0.3 * loss_t2i


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


class _RowLogits(torch.autograd.Function):
    """``(embeds @ weight^T)[rows]`` without the other rows' logits.

    The backward forms the weight's gradient as the full product's does (the ``(N, V)``
    gradient zero outside ``rows``, reduced over all ``N`` rows by the same matrix product),
    so that training takes bitwise the steps it took with the full logits: a product over the
    selected rows only sums in another order once ``N`` is large enough for the BLAS to split
    the reduction.
    """

    @staticmethod
    def forward(ctx, embeds: Tensor, weight: Tensor, rows: Tensor) -> Tensor:
        ctx.save_for_backward(embeds, weight, rows)
        return embeds[rows] @ weight.t()

    @staticmethod
    def backward(ctx, grad: Tensor):
        embeds, weight, rows = ctx.saved_tensors
        grad_embeds = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_embeds = embeds.new_zeros(embeds.shape)
            grad_embeds[rows] = grad.mm(weight)
        if ctx.needs_input_grad[1]:
            dense = grad.new_zeros(embeds.shape[0], weight.shape[0])
            dense[rows] = grad
            grad_weight = dense.t().mm(embeds)
        return grad_embeds, grad_weight, None


def tied_caption_loss(embeds: Tensor, weight: Tensor, tokens: Tensor,
                      token_mask: Tensor) -> Tensor:
    """:func:`caption_loss` of the logits ``embeds @ weight^T``, computed at the valid targets
    only.

    The same value and gradients as ``caption_loss(embeds @ weight.t(), tokens, token_mask)``
    (bitwise in fp32, one and two threads, tested), without the ``(B, T, V)`` logits: at
    CLIP's ``V = 49408`` they dominate a small model's training step (configs/xdecoder/README.md
    has the toy joint step's times). Under autocast the selected logits go through plain
    autograd (no bitwise claim there).

    Args:
        embeds (Tensor): ``(B, T, D)`` caption outputs.
        weight (Tensor): ``(V, D)`` output embedding (X-Decoder ties it to the token
            embedding).
        tokens (Tensor): ``(B, T)`` long token ids (start token first).
        token_mask (Tensor): ``(B, T)`` bool, True on real tokens (not padding).

    Returns:
        Tensor: Scalar loss (0 connected to the graph when no target is valid).
    """
    if (embeds.dim() != 3 or embeds.shape[:2] != tokens.shape
            or tokens.shape != token_mask.shape or weight.dim() != 2
            or weight.shape[1] != embeds.shape[2]):
        raise ValueError(f'caption embeds {tuple(embeds.shape)} must be (B, T, D) with a '
                         f'(V, D) weight and caption_tokens / caption_mask (B, T); got weight '
                         f'{tuple(weight.shape)}, tokens {tuple(tokens.shape)} and mask '
                         f'{tuple(token_mask.shape)}')
    valid = token_mask[:, 1:].bool()
    if not valid.any():
        return embeds.sum() * 0 + weight.sum() * 0
    # the logits at t predict token t + 1: rows (b, t) of the (B * T, D) outputs with t < T - 1
    rows = F.pad(valid, (0, 1)).flatten().nonzero().squeeze(1)
    flat = embeds.reshape(-1, embeds.shape[-1])
    if torch.is_autocast_enabled(embeds.device.type):
        logits = flat[rows] @ weight.t()  # low precision: plain autograd (autocast casts)
    else:
        logits = _RowLogits.apply(flat, weight, rows)
    return F.cross_entropy(logits.float(), tokens[:, 1:][valid])
