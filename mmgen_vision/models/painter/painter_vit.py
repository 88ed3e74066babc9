# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter's ViT backbone (Wang et al., CVPR 2023).

Two canvases of the same size go through one shared patch embedding: the image canvas ``x``
(prompt image over query image) and the target canvas ``y`` (prompt target over a masked query
target). Masked ``y`` tokens are replaced by a learned mask token, each stream gets its own
segment token and both get the (interpolated) absolute position embedding. The two streams run
the first ``merge_index + 1`` blocks separately (batched together) and are then averaged; the
remaining blocks see one stream. Four evenly spaced block outputs go through one shared norm
and are returned as the features. Tokens stay NHWC ``(B, Hp, Wp, C)`` throughout.

Attention is the shared :class:`~mmgen_vision.models.common.attention.MultiheadAttention`
with the decomposed relative position bias (and an optional prompt-isolation mask) as an
additive bias; the patch embedding (mmcv ``PatchEmbed``), the FFN (timm ``Mlp``) and the
position-table resize (timm) are stock pieces with the release's parameter names.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import PatchEmbed
from timm.layers import Mlp
from torch import Tensor, nn

from mmgen_vision.models.common.attention import MultiheadAttention
from mmgen_vision.models.common.pos_embed import decomposed_rel_pos_bias, resize_pos_embed
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments


class GridPatchEmbed(PatchEmbed):
    """mmcv's ``PatchEmbed`` (non-overlapping ``p x p`` conv ``projection``, no norm) returning
    the token grid: ``(B, 3, H, W)`` -> ``(B, H/p, W/p, C)``."""

    def __init__(self, patch_size: int = 16, in_channels: int = 3, embed_dims: int = 1024) -> None:
        super().__init__(in_channels, embed_dims, kernel_size=patch_size, stride=patch_size,
                         padding=0)

    def forward(self, x: Tensor) -> Tensor:
        tokens, (hp, wp) = super().forward(x)
        return tokens.reshape(x.shape[0], hp, wp, -1)


class RelPosAttention(MultiheadAttention):
    """Multi-head self-attention on a token grid with a decomposed relative position bias.

    The shared :class:`MultiheadAttention` (fused ``qkv``, ``proj``) plus the tables
    ``rel_pos_h`` / ``rel_pos_w``; the bias goes through the shared attention kernel, which
    takes the fused SDPA kernel at inference and the explicit product when training the tables
    on CPU.

    Args:
        dim (int): Token channels.
        num_heads (int): Heads.
        qkv_bias (bool): Bias in the fused ``qkv`` projection.
        use_rel_pos (bool): Add the decomposed relative position bias.
        rel_pos_size (tuple[int, int]): Grid the tables are sized for ``(Hp, Wp)``:
            ``rel_pos_h`` is ``(2 Hp - 1, head_dim)``, ``rel_pos_w`` ``(2 Wp - 1, head_dim)``.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True,
                 use_rel_pos: bool = True, rel_pos_size: Tuple[int, int] = (56, 28)) -> None:
        super().__init__(dim, num_heads, qkv_bias=qkv_bias)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * rel_pos_size[0] - 1, self.head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * rel_pos_size[1] - 1, self.head_dim))

    def qkv_heads(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """``(B, Hp, Wp, C)`` -> q, k, v each ``(B, heads, Hp * Wp, head_dim)``."""
        return self.in_proj(x.flatten(1, 2))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None,
                kv_prefix: Optional[Tuple[Tensor, Tensor]] = None,
                return_kv: bool = False, full_rows: Optional[int] = None):
        """Attend over the grid ``x`` ``(B, Hp, Wp, C)``.

        Args:
            attn_mask (Tensor, optional): Extra additive mask broadcastable to
                ``(B, heads, N_q, N_k)`` (``-inf`` where prompt tokens must not see the
                query).
            kv_prefix (tuple[Tensor, Tensor], optional): Cached keys / values
                ``(B, heads, N_prefix, head_dim)`` of grid rows ABOVE ``x`` (the prompt half);
                ``x`` then holds only the rows below and attends to prefix + itself.
            return_kv (bool): Also return this call's ``(k, v)`` (to cache them).
            full_rows (int, optional): Rows of the whole canvas when the keys are only its
                top rows (the prompt half alone).

        Returns:
            Tensor: ``(B, Hp, Wp, C)`` (and ``(k, v)`` with ``return_kv``).
        """
        b, h, w, c = x.shape
        q, k, v = self.qkv_heads(x)
        new_kv = (k, v)
        k_h = h
        if kv_prefix is not None:
            k = torch.cat([kv_prefix[0], k], dim=2)
            v = torch.cat([kv_prefix[1], v], dim=2)
            k_h = h + kv_prefix[0].shape[2] // w
        bias = None
        if self.use_rel_pos:
            bias = decomposed_rel_pos_bias(q, self.rel_pos_h, self.rel_pos_w, (k_h, w),
                                           q_row_offset=k_h - h, full_rows=full_rows)
        if attn_mask is not None:
            bias = attn_mask if bias is None else bias + attn_mask
        out = self.out_proj(self.attend(q, k, v, bias)).reshape(b, h, w, c)
        return (out, new_kv) if return_kv else out


def window_partition(x: Tensor, window: int) -> Tuple[Tensor, Tuple[int, int]]:
    """``(B, H, W, C)`` -> ``(B * nW, window, window, C)`` windows (zero-padded) + padded size."""
    b, h, w, c = x.shape
    pad_h, pad_w = (window - h % window) % window, (window - w % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp, wp)


def window_unpartition(windows: Tensor, window: int, padded: Tuple[int, int],
                       size: Tuple[int, int]) -> Tensor:
    """Inverse of :func:`window_partition`: windows -> ``(B, H, W, C)`` without the padding."""
    hp, wp = padded
    b = windows.shape[0] // (hp * wp // window // window)
    x = windows.view(b, hp // window, wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :size[0], :size[1]].contiguous()


class PainterBlock(nn.Module):
    """Pre-norm transformer block on a token grid; global or windowed attention.

    Args:
        dim (int): Channels.
        num_heads (int): Heads.
        mlp_ratio (float): FFN hidden width / ``dim``.
        qkv_bias (bool): Bias in ``qkv``.
        drop_path (float): Stochastic depth of both residual branches.
        norm_eps (float): LayerNorm epsilon.
        use_rel_pos (bool): Decomposed relative position bias.
        rel_pos_size (tuple[int, int]): Grid of the global tables.
        window_size (int): ``> 0``: attention inside ``window x window`` windows (tables sized
            for the window).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4., qkv_bias: bool = True,
                 drop_path: float = 0., norm_eps: float = 1e-6, use_rel_pos: bool = True,
                 rel_pos_size: Tuple[int, int] = (56, 28), window_size: int = 0) -> None:
        super().__init__()
        self.window_size = window_size
        self.ln1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = RelPosAttention(
            dim, num_heads, qkv_bias=qkv_bias, use_rel_pos=use_rel_pos,
            rel_pos_size=rel_pos_size if window_size == 0 else (window_size, window_size))
        self.drop_path = DropPath(drop_path)
        self.ln2 = nn.LayerNorm(dim, eps=norm_eps)
        self.ffn = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """``(B, Hp, Wp, C)`` -> same shape."""
        shortcut = x
        x = self.ln1(x)
        if self.window_size > 0:
            size = x.shape[1:3]
            x, padded = window_partition(x, self.window_size)
            x = window_unpartition(self.attn(x), self.window_size, padded, size)
        else:
            x = self.attn(x, attn_mask=attn_mask)
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.ffn(self.ln2(x)))

    def forward_cached(self, x: Tensor, kv_prefix: Optional[Tuple[Tensor, Tensor]] = None,
                       attn_mask: Optional[Tensor] = None, return_kv: bool = False,
                       full_rows: Optional[int] = None):
        """Global-attention forward of the grid rows ``x`` below cached ``kv_prefix`` rows."""
        if self.window_size > 0:
            raise ValueError('the prompt-feature cache needs global attention in every block '
                             f'(this block uses {self.window_size}x{self.window_size} windows)')
        out = self.attn(self.ln1(x), attn_mask=attn_mask, kv_prefix=kv_prefix,
                        return_kv=return_kv, full_rows=full_rows)
        y, kv = out if return_kv else (out, None)
        x = x + y
        x = x + self.ffn(self.ln2(x))
        return (x, kv) if return_kv else x


@MODELS.register_module()
class PainterViT(nn.Module):
    """Painter's two-stream ViT encoder.

    Args:
        img_size (tuple[int, int]): Canvas ``(H, W)`` (two stacked square images: ``H = 2 W``).
        patch_size (int): Patch side ``p``.
        in_channels (int): Canvas channels.
        embed_dims (int): Token channels ``C``.
        num_layers (int): Number of blocks.
        num_heads (int): Attention heads.
        mlp_ratio (float): FFN width ratio.
        qkv_bias (bool): Bias in ``qkv``.
        drop_path_rate (float): Stochastic depth, linearly increasing over the blocks.
        norm_eps (float): LayerNorm epsilon (1e-6 in the release).
        pretrain_img_size (int): Side of the square image the ``pos_embed`` table was made for
            (224 for MAE ViT-L/16 -> 14 x 14 slots + cls).
        pretrain_use_cls_token (bool): ``pos_embed`` has a leading cls slot (dropped).
        use_rel_pos (bool): Decomposed relative position bias in every block.
        merge_index (int): The streams are averaged after this block (3 blocks: index 2).
        out_indices (sequence[int], optional): Tapped blocks; default four evenly spaced
            (5, 11, 17, 23 for 24 blocks).
        window_size (int): Window of the windowed blocks.
        window_block_indexes (sequence[int]): Blocks with windowed attention (none in the
            release, whose list is never matched).
        prompt_isolation (bool): Tokens of the top (prompt) half do not attend to the bottom
            (query) half. Makes the prompt half's features query-independent, i.e. cacheable
            for every block (see :meth:`encode_prompt`). Off in the release.
        with_cp (bool): Activation checkpointing of the blocks while training.
    """

    @renamed_arguments(embed_dim='embed_dims', depth='num_layers')
    def __init__(self,
                 img_size: Sequence[int] = (896, 448),
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 1024,
                 num_layers: int = 24,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-6,
                 pretrain_img_size: int = 224,
                 pretrain_use_cls_token: bool = True,
                 use_rel_pos: bool = True,
                 merge_index: int = 2,
                 out_indices: Optional[Sequence[int]] = None,
                 window_size: int = 14,
                 window_block_indexes: Sequence[int] = (),
                 prompt_isolation: bool = False,
                 with_cp: bool = False) -> None:
        super().__init__()
        img_size = tuple(img_size)
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ValueError(f'img_size {img_size} is not a multiple of patch_size {patch_size}')
        self.img_size = img_size
        self.patch_size = patch_size
        self.embed_dims = embed_dims
        self.grid = (img_size[0] // patch_size, img_size[1] // patch_size)
        if self.grid[0] % 2:
            raise ValueError(f'the canvas grid {self.grid} has no top/bottom halves')
        if not 0 <= merge_index < num_layers:
            raise ValueError(f'merge_index {merge_index} outside the {num_layers} blocks')
        self.merge_index = merge_index
        self.out_indices = tuple(out_indices) if out_indices is not None else tuple(
            num_layers // 4 * (i + 1) - 1 for i in range(4))
        if len(set(self.out_indices)) != len(self.out_indices):
            raise ValueError(f'out_indices {self.out_indices} repeat a block')
        if any(not merge_index <= i < num_layers for i in self.out_indices):
            raise ValueError(f'out_indices {self.out_indices} must lie in [merge_index '
                             f'{merge_index}, {num_layers}): taps are taken after the merge')
        self.prompt_isolation = prompt_isolation
        self.with_cp = with_cp

        self.patch_embed = GridPatchEmbed(patch_size, in_channels, embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 1, embed_dims))
        self.segment_token_x = nn.Parameter(torch.zeros(1, 1, 1, embed_dims))
        self.segment_token_y = nn.Parameter(torch.zeros(1, 1, 1, embed_dims))
        slots = (pretrain_img_size // patch_size)**2 + int(pretrain_use_cls_token)
        self.pretrain_use_cls_token = pretrain_use_cls_token
        self.pos_embed = nn.Parameter(torch.zeros(1, slots, embed_dims))
        dpr = [drop_path_rate * i / max(num_layers - 1, 1) for i in range(num_layers)]
        self.blocks = nn.ModuleList([
            PainterBlock(embed_dims, num_heads, mlp_ratio, qkv_bias, dpr[i], norm_eps, use_rel_pos,
                         self.grid, window_size if i in tuple(window_block_indexes) else 0)
            for i in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self._init_weights()

    def _init_weights(self) -> None:
        """Truncated-normal tokens / position embedding, Xavier linears (MAE style).

        Called once at construction only (not named ``init_weights``: MMEngine's Runner calls
        that on every sub-module at the start of training, which would wipe weights loaded
        before, e.g. the frozen model of :class:`PainterPromptTuner`).
        """
        for p in (self.mask_token, self.segment_token_x, self.segment_token_y, self.pos_embed):
            nn.init.trunc_normal_(p, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        w = self.patch_embed.projection.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))

    # ----------------------------------------------------------------------- embeddings
    def abs_pos(self, grid: Tuple[int, int]) -> Tensor:
        """``(1, Hp, Wp, C)`` position embedding for a token grid."""
        pos = resize_pos_embed(self.pos_embed, grid, int(self.pretrain_use_cls_token))
        return pos.reshape(1, grid[0], grid[1], -1)

    def embed(self, imgs: Tensor, tgts: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
        """Token grids of both streams.

        Args:
            imgs (Tensor): Normalised image canvas ``(B, 3, H, W)``.
            tgts (Tensor): Normalised target canvas ``(B, 3, H, W)``.
            mask (Tensor): ``(B, Hp * Wp)`` or ``(B, Hp, Wp)`` patch mask, True = masked.

        Returns:
            tuple[Tensor, Tensor]: ``x`` and ``y`` streams, each ``(B, Hp, Wp, C)``.
        """
        x = self.patch_embed(imgs)
        y = self.patch_embed(tgts)
        b, hp, wp, _ = x.shape
        w = mask.reshape(b, hp, wp, 1).to(y.dtype)
        y = y * (1 - w) + self.mask_token.to(y.dtype) * w
        pos = self.abs_pos((hp, wp)).to(x.dtype)
        return x + self.segment_token_x + pos, y + self.segment_token_y + pos

    def isolation_mask(self, grid: Tuple[int, int], device, dtype) -> Optional[Tensor]:
        """``(N, N)`` additive mask hiding the bottom half from top-half queries (or None)."""
        if not self.prompt_isolation:
            return None
        hp, wp = grid
        rows = torch.arange(hp, device=device).repeat_interleave(wp)
        top = rows < hp // 2
        blocked = top[:, None] & ~top[None, :]
        return torch.zeros(blocked.shape, device=device, dtype=dtype).masked_fill(
            blocked, float('-inf'))

    # ----------------------------------------------------------------------- forward
    def _run_block(self, block: PainterBlock, x: Tensor, attn_mask: Optional[Tensor]) -> Tensor:
        if self.with_cp and self.training and x.requires_grad:
            return cp.checkpoint(block, x, attn_mask, use_reentrant=False)
        return block(x, attn_mask)

    def forward(self, imgs: Tensor, tgts: Tensor, mask: Tensor,
                return_intermediates: bool = False):
        """Encode the two canvases.

        Args:
            imgs (Tensor): Normalised image canvas ``(B, 3, H, W)``.
            tgts (Tensor): Normalised target canvas ``(B, 3, H, W)``.
            mask (Tensor): ``(B, Hp * Wp)`` patch mask, True = masked.
            return_intermediates (bool): Also return a dict of intermediate tensors
                (``encoder_input_tokens``, ``block_outputs``, ``merged_tokens``).

        Returns:
            list[Tensor]: The tapped features, each ``(B, Hp, Wp, C)`` after the shared norm
            (and the intermediates dict with ``return_intermediates``).
        """
        x, y = self.embed(imgs, tgts, mask)
        b, hp, wp, _ = x.shape
        attn_mask = self.isolation_mask((hp, wp), x.device, x.dtype)
        tokens = torch.cat([x, y], dim=0)
        inter: Dict[str, object] = dict(encoder_input_tokens=tokens, block_outputs=[])
        feats: List[Tensor] = []
        for i, block in enumerate(self.blocks):
            tokens = self._run_block(block, tokens, attn_mask)
            if return_intermediates:
                inter['block_outputs'].append(tokens)
            if i == self.merge_index:
                tokens = (tokens[:b] + tokens[b:]) * 0.5
                inter['merged_tokens'] = tokens
            if i in self.out_indices:
                feats.append(self.norm(tokens))
        return (feats, inter) if return_intermediates else feats

    # ----------------------------------------------------------------------- prompt cache
    def encode_prompt(self, prompt_img: Tensor, prompt_tgt: Tensor) -> Dict[str, object]:
        """Compute the prompt half once: per-block keys/values and the tapped features.

        Only exact when the prompt half cannot see the query half, i.e. with
        ``prompt_isolation=True`` (otherwise every block's prompt features depend on the query).

        Args:
            prompt_img (Tensor): Normalised prompt image ``(B, 3, H/2, W)``.
            prompt_tgt (Tensor): Normalised prompt target ``(B, 3, H/2, W)``.

        Returns:
            dict: ``kv`` (per block ``(k, v)``, ``(B', heads, N/2, head_dim)``; ``B' = 2B``
            before the merge) and ``feats`` (tapped prompt-half features ``(B, Hp/2, Wp, C)``).
        """
        if not self.prompt_isolation:
            raise ValueError('the prompt cache is exact only with prompt_isolation=True; this '
                             'backbone lets prompt tokens attend to the query')
        hp, wp = self.grid
        b = prompt_img.shape[0]
        x = self.patch_embed(prompt_img)
        y = self.patch_embed(prompt_tgt)
        pos = self.abs_pos((hp, wp))[:, :hp // 2].to(x.dtype)
        tokens = torch.cat([x + self.segment_token_x + pos, y + self.segment_token_y + pos], 0)
        cache: Dict[str, object] = dict(kv=[], feats=[])
        for i, block in enumerate(self.blocks):
            tokens, kv = block.forward_cached(tokens, return_kv=True, full_rows=hp)
            cache['kv'].append(kv)
            if i == self.merge_index:
                tokens = (tokens[:b] + tokens[b:]) * 0.5
            if i in self.out_indices:
                cache['feats'].append(self.norm(tokens))
        return cache

    def forward_query(self, query_img: Tensor, cache: Dict[str, object]) -> List[Tensor]:
        """Encode only the bottom (query) half against a cached prompt.

        Args:
            query_img (Tensor): Normalised query image ``(B, 3, H/2, W)``.
            cache (dict): :meth:`encode_prompt` output for batch size ``B`` (or 1: broadcast).

        Returns:
            list[Tensor]: Full-canvas tapped features ``(B, Hp, Wp, C)`` (prompt rows from the
            cache), identical to :meth:`forward` with the bottom half masked.
        """
        hp, wp = self.grid
        b = query_img.shape[0]
        x = self.patch_embed(query_img)
        pos = self.abs_pos((hp, wp))[:, hp // 2:].to(x.dtype)
        y = self.mask_token.to(x.dtype).expand_as(x) + self.segment_token_y + pos
        tokens = torch.cat([x + self.segment_token_x + pos, y], 0)

        def expand(t: Tensor, streams: int) -> Tensor:
            per = t.shape[0] // streams
            if per == b:
                return t
            return t.reshape(streams, per, *t.shape[1:]).expand(
                streams, b, *t.shape[1:]).reshape(streams * b, *t.shape[1:])

        feats: List[Tensor] = []
        taps = iter(cache['feats'])
        for i, block in enumerate(self.blocks):
            streams = 2 if i <= self.merge_index else 1
            k, v = cache['kv'][i]
            tokens = block.forward_cached(
                tokens, kv_prefix=(expand(k, streams), expand(v, streams)), full_rows=hp)
            if i == self.merge_index:
                tokens = (tokens[:b] + tokens[b:]) * 0.5
            if i in self.out_indices:
                top = expand(next(taps), 1)
                feats.append(torch.cat([top, self.norm(tokens)], dim=1))
        return feats
