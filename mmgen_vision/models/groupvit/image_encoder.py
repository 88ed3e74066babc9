# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT image encoder (Xu et al., CVPR 2022): a ViT whose stages carry learnable group
tokens and end in grouping blocks that merge the image tokens into fewer segment tokens."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import PatchEmbed
from timm.layers import Mlp
from torch import Tensor, nn

from mmgen_vision.models.common.attention import MultiheadAttention
from mmgen_vision.models.common.pos_embed import resize_pos_embed
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments


class TokenMixer(Mlp):
    """timm's ``Mlp`` (``fc1 -> GELU -> fc2``) over the TOKEN axis: ``(B, S_in, C)`` tokens
    -> ``(B, S_out, C)``."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class TransformerBlock(nn.Module):
    """Pre-norm ViT block: ``x + attn(ln1(x))``, ``x + ffn(ln2(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4., qkv_bias: bool = True,
                 drop: float = 0., attn_drop: float = 0., drop_path: float = 0.) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = MultiheadAttention(dim, num_heads, qkv_bias, attn_drop=attn_drop,
                                       proj_drop=drop)
        self.drop_path = DropPath(drop_path)
        self.ln2 = nn.LayerNorm(dim)
        self.ffn = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path(self.attn(self.ln1(x)))
        return x + self.drop_path(self.ffn(self.ln2(x)))


class PostNormCrossAttnBlock(nn.Module):
    """Cross-attention block of the grouping block (``pre_assign_attn``), post-norm:
    ``y = q + attn(q, x)``, ``y = y + ffn(ln2(y))``, ``norm_post(y)``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4., qkv_bias: bool = True,
                 drop: float = 0., attn_drop: float = 0.) -> None:
        super().__init__()
        self.attn = MultiheadAttention(dim, num_heads, qkv_bias, fused_qkv=False,
                                       attn_drop=attn_drop, proj_drop=drop)
        self.ln2 = nn.LayerNorm(dim)
        self.ffn = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        self.norm_post = nn.LayerNorm(dim)

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        y = query + self.attn(query, key)
        y = y + self.ffn(self.ln2(y))
        return self.norm_post(y)


def hard_one_hot(soft: Tensor, dim: int) -> Tensor:
    """Straight-through one-hot: forward ``one_hot(argmax(soft, dim))``, backward ``d soft``."""
    index = soft.argmax(dim, keepdim=True)
    hard = torch.zeros_like(soft).scatter_(dim, index, 1.)
    return hard - soft.detach() + soft


class AssignAttention(MultiheadAttention):
    """One-head assignment of image tokens to groups (the projections ``q``, ``k``, ``v``,
    ``proj`` of a one-head :class:`MultiheadAttention`, its own normalisation).

    Logits ``q(groups) k(tokens)^T * qk_scale`` (``qk_scale`` defaults to ``C ** -0.5``, as
    the release's ``qk_scale=None``) are normalised over the GROUP axis (each token
    distributes over the groups). With ``hard=True`` the assignment is the straight-through
    one-hot of the argmax (Gumbel noise added to the logits in training when ``gumbel``).
    Each group then averages its tokens: ``A / (A.sum(tokens) + eps)``.

    Returns:
        tuple: the output ``proj(A @ v(x))`` ``(B, S, C)`` and a dict with ``soft`` (plain
        softmax over groups) and ``hard`` (the assignment used, before the eps division),
        both ``(B, 1, S, N)``.
    """

    def __init__(self, dim: int, qkv_bias: bool = True, hard: bool = True, gumbel: bool = True,
                 gumbel_tau: float = 1., assign_eps: float = 1., attn_drop: float = 0.,
                 proj_drop: float = 0., qk_scale: Optional[float] = None) -> None:
        super().__init__(dim, 1, qkv_bias, fused_qkv=False, attn_drop=attn_drop,
                         proj_drop=proj_drop)
        self.scale = qk_scale or dim**-0.5
        self.hard = hard
        self.gumbel = gumbel
        self.gumbel_tau = gumbel_tau
        self.assign_eps = assign_eps

    def forward(self, query: Tensor, key: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        logits = (self.q(query) @ self.k(key).transpose(-2, -1)).unsqueeze(1) * self.scale
        soft = logits.softmax(dim=-2)
        if self.training and self.gumbel:
            attn = F.gumbel_softmax(logits, tau=self.gumbel_tau, hard=self.hard, dim=-2)
        else:
            attn = hard_one_hot(soft, dim=-2) if self.hard else soft
        assign = attn
        attn = attn / (attn.sum(dim=-1, keepdim=True) + self.assign_eps)
        attn = F.dropout(attn, self.attn_drop, self.training)
        out = (attn @ self.v(key).unsqueeze(1)).squeeze(1)
        return self.proj_drop(self.proj(out)), dict(soft=soft, hard=assign)


class GroupingBlock(nn.Module):
    """Merge ``N`` image tokens into ``S_out`` segment tokens with ``S_in`` group tokens."""

    def __init__(self, dim: int, num_heads: int, num_group_tokens: int, num_output_groups: int,
                 token_mlp_ratio: float = 0.5, channel_mlp_ratio: float = 4.,
                 qkv_bias: bool = True, hard: bool = True, gumbel: bool = True,
                 gumbel_tau: float = 1., assign_eps: float = 1.,
                 qk_scale: Optional[float] = None) -> None:
        super().__init__()
        self.norm_tokens = nn.LayerNorm(dim)
        self.token_mlp = TokenMixer(num_group_tokens, int(dim * token_mlp_ratio),
                                    num_output_groups)
        self.norm_post_tokens = nn.LayerNorm(dim)
        self.norm_x = nn.LayerNorm(dim)
        self.pre_assign_attn = PostNormCrossAttnBlock(dim, num_heads, channel_mlp_ratio,
                                                      qkv_bias)
        self.assign = AssignAttention(dim, qkv_bias, hard, gumbel, gumbel_tau, assign_eps,
                                      qk_scale=qk_scale)
        self.norm_new_x = nn.LayerNorm(dim)
        self.channel_mlp = Mlp(dim, int(dim * channel_mlp_ratio))

    def forward(self, x: Tensor, group_tokens: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        group_tokens = self.norm_tokens(group_tokens)
        x = self.norm_x(x)
        projected = self.norm_post_tokens(self.token_mlp(group_tokens))
        pre_assign = self.pre_assign_attn(projected, x)
        assign_out, attn = self.assign(pre_assign, x)
        new_x = assign_out + pre_assign
        new_x = new_x + self.channel_mlp(self.norm_new_x(new_x))
        attn.update(projected_group_tokens=projected, pre_assign_out=pre_assign,
                    assign_out=assign_out)
        return new_x, attn


class GroupProjector(nn.Module):
    """Group tokens of the previous stage -> this stage's: LayerNorm + token-mixing MLP."""

    def __init__(self, dim: int, in_tokens: int, out_tokens: int, mlp_ratio: float = 0.5) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = TokenMixer(in_tokens, int(dim * mlp_ratio), out_tokens)

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(self.norm(x))


class GroupViTStage(nn.Module):
    """Transformer blocks on ``cat([x, group_tokens])`` then (optionally) a grouping block."""

    def __init__(self, dim: int, depth: int, num_heads: int, num_group_tokens: int,
                 num_output_groups: int, prev_group_tokens: int = 0, mlp_ratio: float = 4.,
                 qkv_bias: bool = True, drop: float = 0., attn_drop: float = 0.,
                 drop_path: Sequence[float] = (), grouping_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.num_group_tokens = num_group_tokens
        drop_path = list(drop_path) or [0.] * depth
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, num_heads, mlp_ratio, qkv_bias, drop, attn_drop, drop_path[i])
            for i in range(depth))
        if num_group_tokens > 0:
            self.group_token = nn.Parameter(torch.zeros(1, num_group_tokens, dim))
            self.grouping = GroupingBlock(dim, num_heads, num_group_tokens, num_output_groups,
                                          qkv_bias=qkv_bias, **(grouping_cfg or {}))
            if prev_group_tokens > 0:
                self.group_projector = GroupProjector(dim, prev_group_tokens, num_group_tokens)
            else:
                self.group_projector = None
        else:
            self.group_token = None
            self.grouping = None
            self.group_projector = None

    def forward(self, x: Tensor, prev_group_tokens: Optional[Tensor] = None
                ) -> Tuple[Tensor, Optional[Tensor], Dict[str, Tensor]]:
        """Returns the output tokens, the group tokens after the blocks (or ``None``) and the
        intermediates (assignments, grouping block internals)."""
        extras: Dict[str, Tensor] = {}
        if self.group_token is None:
            for block in self.blocks:
                x = block(x)
            return x, None, extras
        group_tokens = self.group_token.expand(x.shape[0], -1, -1)
        if self.group_projector is not None:
            if prev_group_tokens is None:
                raise ValueError('this stage projects the previous group tokens: pass them')
            projected = self.group_projector(prev_group_tokens)
            extras['group_projector_out'] = projected
            group_tokens = group_tokens + projected
        n = x.shape[1]
        tokens = torch.cat([x, group_tokens], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        x, group_tokens = tokens[:, :n], tokens[:, n:]
        new_x, attn = self.grouping(x, group_tokens)
        extras.update(attn)
        return new_x, group_tokens, extras


@MODELS.register_module()
class GroupViTImageEncoder(nn.Module):
    """GroupViT image encoder.

    Args:
        img_size (int): Training image size; the stored position embedding is the square grid
            ``img_size // patch_size``; other grids get it resized bicubically. Defaults to 224.
        patch_size (int): Defaults to 16.
        in_channels (int): Defaults to 3.
        embed_dims (int): Width of every stage. Defaults to 384.
        depths (Sequence[int]): Transformer blocks per stage. Defaults to (6, 3, 3).
        num_heads (int | Sequence[int]): Heads per stage. Defaults to 6.
        num_group_tokens (Sequence[int]): Group tokens per stage (0: no grouping, only in the
            last stage). Defaults to (64, 8, 0).
        num_output_groups (Sequence[int]): Segment tokens each grouping block outputs.
            Defaults to (64, 8).
        hard_assignment (bool): Straight-through one-hot assignment. Defaults to True.
        gumbel (bool): Gumbel noise on the assignment logits in training. Defaults to True.
        gumbel_tau (float): Defaults to 1.
        assign_eps (float): Added to each group's token count. Defaults to 1.
        assign_qk_scale (float, optional): Scale of the assignment logits (the release's
            ``qk_scale`` of ``AssignAttention``); None: ``embed_dims ** -0.5``. Defaults to
            None.
        mlp_ratio (float): Defaults to 4.
        qkv_bias (bool): Defaults to True.
        drop_rate, attn_drop_rate (float): Defaults to 0.
        drop_path_rate (float): Stochastic depth, linear over all blocks. Defaults to 0.1.
        patch_norm (bool): LayerNorm after the patch embedding. Defaults to True.
    """

    @renamed_arguments(embed_dim='embed_dims')
    def __init__(self,
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 384,
                 depths: Sequence[int] = (6, 3, 3),
                 num_heads=6,
                 num_group_tokens: Sequence[int] = (64, 8, 0),
                 num_output_groups: Sequence[int] = (64, 8),
                 hard_assignment: bool = True,
                 gumbel: bool = True,
                 gumbel_tau: float = 1.,
                 assign_eps: float = 1.,
                 assign_qk_scale: Optional[float] = None,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 patch_norm: bool = True) -> None:
        super().__init__()
        num_stages = len(depths)
        if isinstance(num_heads, int):
            num_heads = [num_heads] * num_stages
        if len(num_heads) != num_stages or len(num_group_tokens) != num_stages:
            raise ValueError('depths, num_heads and num_group_tokens need one entry per stage')
        if num_group_tokens[-1] != 0 or any(g <= 0 for g in num_group_tokens[:-1]):
            raise ValueError('every stage but the last groups (num_group_tokens > 0); the last '
                             f'has none (0), got {list(num_group_tokens)}')
        if len(num_output_groups) != num_stages - 1:
            raise ValueError(f'num_output_groups needs {num_stages - 1} entries')
        self.embed_dims = embed_dims
        self.patch_size = patch_size
        self.patch_embed = PatchEmbed(in_channels, embed_dims, kernel_size=patch_size,
                                      stride=patch_size, padding=0,
                                      norm_cfg=dict(type='LN') if patch_norm else None)
        grid = img_size // patch_size
        self.pos_grid = grid
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid, embed_dims))
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        grouping_cfg = dict(hard=hard_assignment, gumbel=gumbel, gumbel_tau=gumbel_tau,
                            assign_eps=assign_eps, qk_scale=assign_qk_scale)
        self.stages = nn.ModuleList()
        for i in range(num_stages):
            self.stages.append(
                GroupViTStage(
                    embed_dims, depths[i], num_heads[i], num_group_tokens[i],
                    num_output_groups[i] if i < num_stages - 1 else 0,
                    prev_group_tokens=num_group_tokens[i - 1] if i > 0 else 0,
                    mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    drop_path=dpr[sum(depths[:i]):sum(depths[:i + 1])],
                    grouping_cfg=grouping_cfg))
        self.norm = nn.LayerNorm(embed_dims)
        self.init_weights()

    def init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=.02)
        for stage in self.stages:
            if stage.group_token is not None and stage.group_projector is None:
                nn.init.trunc_normal_(stage.group_token, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def interpolate_pos_embed(self, hw: Tuple[int, int]) -> Tensor:
        """The position embedding for an ``h x w`` token grid (bicubic resize of the stored
        square grid, ``align_corners=False``), ``(1, h*w, C)``."""
        return resize_pos_embed(self.pos_embed, hw)

    def forward(self, x: Tensor, return_attn: bool = False, return_intermediates: bool = False):
        """Encode images ``(B, 3, H, W)``.

        Returns:
            dict: ``x`` pooled ``(B, C)``, ``feat`` final segment tokens after the norm
            ``(B, S_last, C)``, ``hw`` the token grid; with ``return_attn`` ``attn_dicts`` (one
            dict with ``soft``/``hard`` ``(B, 1, S, N)`` per grouping stage); with
            ``return_intermediates`` ``intermediates`` (``patch_embed``, ``embed_tokens``,
            ``stage{i}_*``).
        """
        inter: Dict[str, Tensor] = {}
        x, hw = self.patch_embed(x)
        inter['patch_embed'] = x
        x = self.pos_drop(x + self.interpolate_pos_embed(hw))
        inter['embed_tokens'] = x
        group_tokens = None
        attn_dicts: List[Dict[str, Tensor]] = []
        for i, stage in enumerate(self.stages):
            x, group_tokens, extras = stage(x, group_tokens)
            for key, value in extras.items():
                inter[f'stage{i}_{key}'] = value
            inter[f'stage{i}_x_out'] = x
            if group_tokens is not None:
                inter[f'stage{i}_group_tokens'] = group_tokens
                attn_dicts.append(dict(soft=extras['soft'], hard=extras['hard']))
        feat = self.norm(x)
        out = dict(x=feat.mean(dim=1), feat=feat, hw=hw)
        if return_attn:
            out['attn_dicts'] = attn_dicts
        if return_intermediates:
            out['intermediates'] = inter
        return out
