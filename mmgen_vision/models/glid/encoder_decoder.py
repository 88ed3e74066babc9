# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The generalist encoder-decoder shared by GLID pre-training and every fine-tuning task."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class GLIDEncoderDecoder(BaseModule):
    """Swin encoder -> BiFPN -> query decoder, plus the [CLS] query token.

    Key layout (what partial loading selects): ``backbone.*`` and ``neck.*`` form the
    encoder, ``decoder.*`` the decoder and ``cls_token`` the query machinery.

    Args:
        backbone (dict): Encoder config (``GLIDSwinTransformer``).
        neck (dict): Multi-scale fusion config (``BiFPN``); its level 0 is f_b (1/4 scale).
        decoder (dict): ``GLIDTransformerDecoder`` config; its width must equal the neck's.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict, decoder: dict, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.decoder = MODELS.build(decoder)
        if self.neck.out_channels != self.decoder.embed_dims:
            raise ValueError(f'neck.out_channels ({self.neck.out_channels}) must equal '
                             f'decoder.embed_dims ({self.decoder.embed_dims})')
        self.embed_dims = self.decoder.embed_dims
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    @property
    def patch_size(self) -> int:
        return self.backbone.patch_embed.projection.stride[0]

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.cls_token, std=.02)

    def encode(self, img: torch.Tensor, mask: Optional[torch.Tensor] = None) -> List[torch.Tensor]:
        """Images (B, 3, H, W) -> BiFPN levels (B, C, H / 4 / 2^l, W / 4 / 2^l)."""
        return self.neck(self.backbone(img, mask))

    def forward(self, img: torch.Tensor, queries: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Encode then decode.

        Args:
            img (Tensor): (B, 3, H, W).
            queries (Tensor): (B, Q, C).
            mask (Tensor, optional): Boolean patch mask for the encoder (pre-training).

        Returns:
            tuple: per-layer query answers (num_layers, B, Q, C) and the BiFPN levels
            (level 0 = f_b, (B, C, H / 4, W / 4)).
        """
        feats = self.encode(img, mask)
        return self.decoder(queries, feats), feats
