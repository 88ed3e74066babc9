# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID's image encoder: mmdet's Swin Transformer with a SimMIM-style mask token."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmdet.models.backbones import SwinTransformer
from mmengine.model.weight_init import trunc_normal_

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GLIDSwinTransformer(SwinTransformer):
    """mmdet's ``SwinTransformer`` whose masked patch embeddings are replaced by a learnable
    mask token right after the patch embedding (SimMIM), so the hierarchical windows still
    see a full grid.

    Args:
        use_mask_token (bool): Create the mask token (needed by pre-training; fine-tuning
            models build it too so that pre-trained checkpoints keep one key layout, but
            never use it). Defaults to True.
        **kwargs: ``mmdet.SwinTransformer`` arguments (``embed_dims``, ``depths``,
            ``num_heads``, ``window_size``, ``with_cp``, ...).
    """

    def __init__(self, use_mask_token: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.use_mask_token = use_mask_token
        if use_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims_first))

    @property
    def embed_dims_first(self) -> int:
        """Channels of the patch embedding (stage 1)."""
        return self.patch_embed.projection.out_channels

    def init_weights(self) -> None:
        super().init_weights()
        if self.use_mask_token:
            trunc_normal_(self.mask_token, std=.02)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        """Encode images, optionally with masked patches.

        Args:
            x (Tensor): Images, shape (B, 3, H, W).
            mask (Tensor, optional): Boolean mask at the patch-embedding resolution, shape
                (B, H / patch_size, W / patch_size); True replaces the patch by the mask token.

        Returns:
            list[Tensor]: Features of the stages in ``out_indices``, (B, C_i, H_i, W_i).
        """
        x, hw_shape = self.patch_embed(x)
        if mask is not None:
            if not self.use_mask_token:
                raise ValueError('GLIDSwinTransformer got a mask but was built with '
                                 'use_mask_token=False')
            if tuple(mask.shape[1:]) != tuple(hw_shape):
                raise ValueError(f'mask of shape {tuple(mask.shape)} does not match the patch '
                                 f'grid {tuple(hw_shape)} of the input {tuple(x.shape)}')
            w = mask.flatten(1).unsqueeze(-1).to(x.dtype)
            x = x * (1. - w) + self.mask_token.to(x.dtype) * w
        if self.use_abs_pos_embed:
            x = x + self.absolute_pos_embed
        x = self.drop_after_pos(x)

        outs = []
        for i, stage in enumerate(self.stages):
            # activation checkpointing: mmdet's blocks honour ``with_cp``
            x, hw_shape, out, out_hw_shape = stage(x, hw_shape)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(out)
                out = out.view(-1, *out_hw_shape, self.num_features[i]).permute(0, 3, 1, 2)
                outs.append(out.contiguous())
        return outs
