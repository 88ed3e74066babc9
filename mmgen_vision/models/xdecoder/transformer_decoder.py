# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The X-Decoder transformer decoder: latent + text queries, masked cross-attention, task
self-attention masks, pixel-level (mask) and token-level (semantic) outputs per layer."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.layers import MLP, SinePositionalEncoding
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import renamed_arguments
from .attention_masks import build_self_attn_mask, expand_self_attn_mask
from .language_encoder import l2_normalize
from .layers import CrossAttentionLayer, FFNLayer, SelfAttentionLayer


@MODELS.register_module()
class XDecoderTransformerDecoder(BaseModule):
    """Generalised decoder.

    Each layer: masked cross-attention of every query row to one feature level (level
    ``i % num_levels``, coarsest first; latent and grounding queries use the previous
    prediction's masks, text queries attend everywhere), then self-attention with the task
    mask (:func:`build_self_attn_mask`), then an FFN; all post-norm. A prediction head runs
    on the learnable queries and after every layer (``num_layers + 1`` predictions).

    Prediction head: ``decoder_norm``; the global query (last latent row) is replaced by
    ``sum_j softmax_j(cos(g, o_j)) o_j`` over the object outputs ``o_j``; semantic outputs
    ``row @ class_embed``; masks ``einsum(mask_embed(row), mask_features)``; caption outputs
    ``caption_scale * decoder_norm(text rows) @ caption_embed`` (``caption_scale`` = 1 in the
    release).

    Args:
        in_channels (int): Channels of the pixel decoder's multi-scale maps. Defaults to 512.
        embed_dims (int): Query channels. Defaults to 512.
        num_queries (int): Latent queries including the global one. Defaults to 101.
        num_heads (int): Defaults to 8.
        feedforward_channels (int): FFN hidden channels. Defaults to 2048.
        num_layers (int): Defaults to 9.
        mask_channels (int): Channels of the mask features. Defaults to 512.
        proj_dim (int): Semantic embedding size (language space). Defaults to 512.
        num_levels (int): Feature levels used round-robin. Defaults to 3.
        context_length (int): Maximum text queries (caption positions). Defaults to 77.
        dropout (float): Defaults to 0.
        pre_norm (bool): Defaults to False.
        mask_threshold (float): Sigmoid threshold of the attention masks. Defaults to 0.5.
        with_cp (bool): Activation checkpointing of the layers. Defaults to False.
        caption_scale (float): Fixed multiplier of the caption outputs ``text_embeds``, hence
            of the caption token logits ``text_embeds @ token_embedding^T``. The release uses
            1. Those logits grow as ``width ** 1.5`` at initialisation (``caption_embed`` and
            the token embedding are both ``N(0, 0.02^2)``), so a narrow model trained from
            scratch starts from a softmax flatter than the paper-width model's by
            ``(512 / width) ** 1.5`` and spends its first hundreds of steps on the logit scale
            alone; ``(512 / embed_dims) ** 1.5`` restores the paper width's scale. Defaults
            to 1.0.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    @renamed_arguments(hidden_dim='embed_dims', ffn_dim='feedforward_channels',
                       mask_dim='mask_channels')
    def __init__(self, in_channels: int = 512, embed_dims: int = 512, num_queries: int = 101,
                 num_heads: int = 8, feedforward_channels: int = 2048, num_layers: int = 9,
                 mask_channels: int = 512, proj_dim: int = 512, num_levels: int = 3,
                 context_length: int = 77, dropout: float = 0., pre_norm: bool = False,
                 mask_threshold: float = 0.5, with_cp: bool = False,
                 caption_scale: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_queries < 2:
            raise ValueError('num_queries must count at least one object and the global query')
        if caption_scale <= 0:
            raise ValueError(f'caption_scale must be positive, got {caption_scale}')
        self.caption_scale = float(caption_scale)
        self.num_queries = num_queries
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.num_levels = num_levels
        self.mask_threshold = mask_threshold
        self.with_cp = with_cp
        self.positional_encoding = SinePositionalEncoding(embed_dims // 2, normalize=True)
        self.level_embed = nn.Embedding(num_levels, embed_dims)
        self.input_proj = nn.ModuleList(
            nn.Identity() if in_channels == embed_dims else nn.Conv2d(in_channels, embed_dims, 1)
            for _ in range(num_levels))
        self.query_feat = nn.Embedding(num_queries, embed_dims)
        self.query_embed = nn.Embedding(num_queries, embed_dims)
        self.cross_attn_layers = nn.ModuleList(
            CrossAttentionLayer(embed_dims, num_heads, dropout, pre_norm)
            for _ in range(num_layers))
        self.self_attn_layers = nn.ModuleList(
            SelfAttentionLayer(embed_dims, num_heads, dropout, pre_norm)
            for _ in range(num_layers))
        self.ffn_layers = nn.ModuleList(
            FFNLayer(embed_dims, feedforward_channels, dropout, pre_norm)
            for _ in range(num_layers))
        self.decoder_norm = nn.LayerNorm(embed_dims)
        self.mask_embed = MLP(embed_dims, embed_dims, mask_channels, 3)
        self.class_embed = nn.Parameter(torch.empty(embed_dims, proj_dim))
        self.caption_embed = nn.Parameter(torch.empty(embed_dims, proj_dim))
        self.caption_pos_embed = nn.Embedding(context_length, embed_dims)
        nn.init.trunc_normal_(self.class_embed, std=0.02)
        nn.init.trunc_normal_(self.caption_embed, std=0.02)

    # ------------------------------------------------------------------ heads
    def _recompute_global(self, latent: Tensor) -> Tensor:
        """Replace the global row of ``latent (B, Q, C)`` by its cosine-softmax pooling of the
        object rows."""
        obj, glob = latent[:, :-1], latent[:, -1:]
        weights = (l2_normalize(glob) @ l2_normalize(obj).transpose(1, 2)).softmax(dim=-1)
        return torch.cat([obj, weights @ obj], dim=1)

    def prediction_head(self, output: Tensor, mask_features: Tensor, target_size: Sequence[int],
                        num_grounding: int, num_text: int) -> Tuple[Dict[str, Tensor], Tensor]:
        """One prediction from the decoder rows.

        Args:
            output (Tensor): ``(R, B, C)`` rows ``[latent Q | grounding G | text T]``.
            mask_features (Tensor): ``(B, mask_channels, h, w)``.
            target_size (tuple): ``(h_l, w_l)`` of the next layer's level.
            num_grounding (int): ``G``.
            num_text (int): ``T``.

        Returns:
            tuple: the prediction dict and the attention mask ``(B * heads, Q + G, h_l * w_l)``
            (bool, ``True`` = masked, before the empty-row fix).
        """
        q = self.num_queries
        dec = self.decoder_norm(output).transpose(0, 1)
        rows = torch.cat([self._recompute_global(dec[:, :q]), dec[:, q:q + num_grounding]],
                         dim=1)
        masks = torch.einsum('bqc,bchw->bqhw', self.mask_embed(rows), mask_features)
        embeds = rows @ self.class_embed
        pred = dict(class_embeds=embeds[:, :q], masks=masks[:, :q])
        if num_grounding:
            pred.update(grd_class_embeds=embeds[:, q:], grd_masks=masks[:, q:])
        if num_text:
            pred['text_embeds'] = self.caption_scale * (
                dec[:, q + num_grounding:] @ self.caption_embed)
        # float: antialiased bicubic has no bfloat16 CPU kernel (autocast, --amp)
        attn = F.interpolate(masks.float(), size=tuple(target_size), mode='bicubic',
                             align_corners=False, antialias=True)
        attn = attn.sigmoid().flatten(2) < self.mask_threshold
        attn = attn.repeat_interleave(self.num_heads, dim=0).detach()
        return pred, attn

    # ---------------------------------------------------------------- forward
    def _text_cross_mask(self, region: Optional[Tensor], size: Sequence[int], num_text: int,
                         like: Tensor) -> Tensor:
        """Cross-attention mask ``(B * heads, T, h_l * w_l)`` of the text rows."""
        if region is None:
            return like.new_zeros(like.shape[0], num_text, like.shape[-1])
        inside = F.interpolate(region[:, None].float(), size=tuple(size), mode='nearest') > 0
        masked = ~inside.flatten(1)
        masked[masked.all(dim=-1)] = False
        masked = masked.repeat_interleave(self.num_heads, dim=0)
        return masked[:, None].expand(-1, num_text, -1)

    def _call(self, layer: nn.Module, *args) -> Tensor:
        if self.with_cp and self.training and args[0].requires_grad:
            return checkpoint(layer, *args, use_reentrant=False)
        return layer(*args)

    def forward(self, multi_scale_features: List[Tensor], mask_features: Tensor,
                grounding_tokens: Optional[Tensor] = None,
                grounding_padding: Optional[Tensor] = None,
                text_tokens: Optional[Tensor] = None, causal: bool = True,
                text_region: Optional[Tensor] = None) -> List[Dict]:
        """Decode.

        Args:
            multi_scale_features (list[Tensor]): ``num_levels`` maps ``(B, C_in, h_l, w_l)``,
                coarsest first.
            mask_features (Tensor): ``(B, mask_channels, h, w)`` (1/4 resolution).
            grounding_tokens (Tensor, optional): Phrase tokens ``(B, P_tok, C)`` (referring):
                adds ``Q - 1`` grounding queries; the tokens join self-attention only.
            grounding_padding (Tensor, optional): Bool ``(B, P_tok)``, ``True`` for padding.
            text_tokens (Tensor, optional): Text queries ``(B, T, C)`` (caption / question
                tokens, ``T <= context_length``).
            causal (bool): Causal text queries (captioning) or not (VQA).
            text_region (Tensor, optional): Bool ``(B, h, w)``: text queries cross-attend only
                inside this region (referring captioning); by default they attend everywhere.

        Returns:
            list[dict]: ``num_layers + 1`` predictions, each with ``class_embeds (B, Q, D)``,
            ``masks (B, Q, h, w)``, ``attn_mask`` and, when used, ``grd_class_embeds
            (B, Q - 1, D)``, ``grd_masks (B, Q - 1, h, w)``, ``text_embeds (B, T, D)``.
        """
        if len(multi_scale_features) != self.num_levels:
            raise ValueError(f'expected {self.num_levels} feature levels, got '
                             f'{len(multi_scale_features)}')
        b = mask_features.shape[0]
        q = self.num_queries
        srcs, poses, sizes = [], [], []
        for level, feat in enumerate(multi_scale_features):
            sizes.append(feat.shape[-2:])
            poses.append(self.positional_encoding(None, feat).flatten(2).permute(2, 0, 1))
            src = self.input_proj[level](feat).flatten(2) + self.level_embed.weight[level][
                None, :, None]
            srcs.append(src.permute(2, 0, 1))

        output = self.query_feat.weight[:, None].repeat(1, b, 1)
        query_pos = self.query_embed.weight[:, None].repeat(1, b, 1)
        num_grd = 0
        if grounding_tokens is not None:
            num_grd = q - 1
            output = torch.cat([output, output[:q - 1]])
            query_pos = torch.cat([query_pos, query_pos[:q - 1]])
            # release: the phrase tokens enter as detached content; the language encoder is
            # reached through their positional (query) copy only
            grd_pos = grounding_tokens.transpose(0, 1)
            grd_tokens = grd_pos.detach()
        num_text = 0
        if text_tokens is not None:
            num_text = text_tokens.shape[1]
            text = text_tokens.transpose(0, 1)
            # release: detached content, positional (query) copy with gradients
            output = torch.cat([output, text.detach()])
            query_pos = torch.cat(
                [query_pos, text + self.caption_pos_embed.weight[:num_text, None]])
        num_tok = grd_tokens.shape[0] if num_grd else 0
        self_mask = build_self_attn_mask(q, num_grd, num_text, num_tok, causal,
                                         device=output.device)
        if num_grd:
            padding = None
            if grounding_padding is not None:
                padding = torch.cat([grounding_padding.new_zeros(b, self_mask.shape[0] - num_tok),
                                     grounding_padding], dim=1)
            self_mask = expand_self_attn_mask(self_mask, b, self.num_heads, padding)

        predictions = []
        pred, attn_mask = self.prediction_head(output, mask_features, sizes[0], num_grd,
                                               num_text)
        predictions.append(dict(pred, attn_mask=attn_mask))
        for i in range(self.num_layers):
            level = i % self.num_levels
            attn_mask = attn_mask.clone()
            attn_mask[attn_mask.all(dim=-1)] = False
            if num_grd:
                # release behaviour: the first grounding query always sees the whole map
                attn_mask[:, q] = False
            if num_text:
                attn_mask = torch.cat(
                    [attn_mask, self._text_cross_mask(text_region, sizes[level], num_text,
                                                      attn_mask)], dim=1)
            output = self._call(self.cross_attn_layers[i], output, srcs[level], attn_mask,
                                poses[level], query_pos)
            if num_grd:
                output = torch.cat([output, grd_tokens])
                pos = torch.cat([query_pos, grd_pos])
            else:
                pos = query_pos
            output = self._call(self.self_attn_layers[i], output, self_mask, pos)
            output = self._call(self.ffn_layers[i], output)
            if num_grd:
                grd_tokens = output[-num_tok:]
                output = output[:-num_tok]
            pred, attn_mask = self.prediction_head(output, mask_features,
                                                   sizes[(i + 1) % self.num_levels], num_grd,
                                                   num_text)
            predictions.append(dict(pred, attn_mask=attn_mask))
        return predictions
