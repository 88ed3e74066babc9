# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID pre-training: masked image modelling as query-to-answer over the whole
encoder-decoder."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from mmengine.structures import BaseDataElement, PixelData

from mmgen_vision.models.common.base_model import BaseTaskModel
from mmgen_vision.models.common.patchify import patchify, unpatchify
from mmgen_vision.registry import MODELS
from .decoder import sine_pos_embed_2d


@MODELS.register_module()
class GLIDPretrainer(BaseTaskModel):
    """Pre-train the generalist encoder-decoder by masked image modelling.

    A fraction ``mask_ratio`` of the ``mask_patch_size`` patches is masked (exactly
    ``round(mask_ratio * L)`` per image); the encoder sees the image with a mask token in
    place of the masked patch embeddings; the decoder's queries are
    ``[CLS, M_1, ..., M_N]`` with ``M_i = mask_query + pos(masked patch i)`` (fixed 2D
    sine-cosine position of the patch on the mask grid, patches in raster order); a linear head
    maps each answer of ``M_i`` to the pixels of patch i; the loss is the MSE over the masked
    patches only.

    Args:
        encoder_decoder (dict): ``GLIDEncoderDecoder`` config.
        mask_patch_size (int): Side of a masked patch in pixels (a multiple of the encoder's
            patch size). Defaults to 32 (SimMIM's choice for Swin).
        mask_ratio (float): Fraction of masked patches. Defaults to 0.6.
        norm_pix_loss (bool): Regress per-patch normalised pixels (MAE). Defaults to True.
        data_preprocessor (dict, optional): Image normaliser.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, encoder_decoder: dict, mask_patch_size: int = 32,
                 mask_ratio: float = 0.6, norm_pix_loss: bool = True,
                 data_preprocessor: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not 0. < mask_ratio < 1.:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        self.core = MODELS.build(encoder_decoder)
        if mask_patch_size % self.core.patch_size != 0:
            raise ValueError(f'mask_patch_size {mask_patch_size} is not a multiple of the '
                             f'encoder patch size {self.core.patch_size}')
        self.mask_patch_size = mask_patch_size
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        dim = self.core.embed_dims
        self.mask_query = nn.Parameter(torch.zeros(1, 1, dim))
        self.pixel_head = nn.Linear(dim, mask_patch_size**2 * 3)

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.mask_query, std=.02)

    # masking and queries -------------------------------------------------------------------
    def grid_shape(self, img: torch.Tensor) -> Tuple[int, int]:
        """Mask grid (gh, gw) of images (B, 3, H, W)."""
        h, w = img.shape[-2:]
        p = self.mask_patch_size
        if h % p or w % p:
            raise ValueError(f'input size {(h, w)} is not divisible by mask_patch_size {p}')
        return h // p, w // p

    def random_masking(self, batch: int, gh: int, gw: int,
                       generator: Optional[torch.Generator] = None,
                       device=None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw the masked patches.

        Returns:
            tuple: ``ids`` (B, N) long, the masked patch indices in ascending raster order,
            and ``mask`` (B, gh, gw) bool, True on masked patches.
        """
        num_patches = gh * gw
        num_masked = int(round(self.mask_ratio * num_patches))
        num_masked = min(max(num_masked, 1), num_patches - 1)
        noise = torch.rand(batch, num_patches, generator=generator)
        ids = noise.argsort(dim=1)[:, :num_masked].sort(dim=1).values.to(device)
        mask = torch.zeros(batch, num_patches, dtype=torch.bool, device=device)
        mask.scatter_(1, ids, True)
        return ids, mask.view(batch, gh, gw)

    def encoder_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """Mask grid (B, gh, gw) -> the encoder's patch-embedding grid."""
        s = self.mask_patch_size // self.core.patch_size
        return mask.repeat_interleave(s, 1).repeat_interleave(s, 2)

    def build_queries(self, ids: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
        """Queries [CLS, M_1..M_N] (B, 1 + N, C) for masked patch indices ``ids`` (B, N)."""
        b = ids.shape[0]
        dim = self.core.embed_dims
        pos = sine_pos_embed_2d(gh, gw, dim, device=ids.device, dtype=self.mask_query.dtype)
        masked = self.mask_query + pos[ids]  # (B, N, C)
        cls = self.core.cls_token.expand(b, -1, -1)
        return torch.cat([cls, masked], dim=1)

    def targets(self, img: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Pixel targets (B, N, p * p * 3) of the masked patches."""
        patches = patchify(img, self.mask_patch_size)
        target = torch.gather(patches, 1, ids[..., None].expand(-1, -1, patches.shape[-1]))
        if self.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)
            target = (target - mean) / (var + 1e-6)**.5
        return target

    def reconstruct(self, img: torch.Tensor, generator: Optional[torch.Generator] = None
                    ) -> Dict[str, torch.Tensor]:
        """Mask, encode, decode and predict.

        Returns:
            dict: ``ids`` (B, N), ``mask`` (B, gh, gw), ``pred`` (B, N, p * p * 3) and
            ``target`` (B, N, p * p * 3).
        """
        gh, gw = self.grid_shape(img)
        ids, mask = self.random_masking(img.shape[0], gh, gw, generator, img.device)
        queries = self.build_queries(ids, gh, gw)
        hs, _ = self.core(img, queries, self.encoder_mask(mask))
        pred = self.pixel_head(hs[-1][:, 1:])
        return dict(ids=ids, mask=mask, pred=pred, target=self.targets(img, ids))

    # BaseTaskModel API -------------------------------------------------------------------------
    def loss(self, inputs: torch.Tensor, data_samples=None) -> Dict[str, torch.Tensor]:
        """MSE between predicted and true pixels of the masked patches."""
        out = self.reconstruct(inputs)
        return dict(loss_mim=F.mse_loss(out['pred'], out['target']))

    def predict(self, inputs: torch.Tensor, data_samples=None) -> List[BaseDataElement]:
        """Reconstruct the masked patches (in the loss's target space, un-normalised back to
        the input space when ``norm_pix_loss``) and report each image's masked MSE."""
        out = self.reconstruct(inputs)
        p = self.mask_patch_size
        h, w = inputs.shape[-2:]
        patches = patchify(inputs, p)
        pred = out['pred']
        if self.norm_pix_loss:
            true = torch.gather(patches, 1, out['ids'][..., None].expand(-1, -1, pred.shape[-1]))
            pred = pred * (true.var(-1, keepdim=True) + 1e-6)**.5 + true.mean(-1, keepdim=True)
        patches = patches.scatter(1, out['ids'][..., None].expand(-1, -1, pred.shape[-1]), pred)
        recon = unpatchify(patches, p, (h // p, w // p))
        mse = ((out['pred'] - out['target'])**2).mean(dim=(1, 2))
        results = []
        for i in range(inputs.shape[0]):
            sample = data_samples[i] if data_samples is not None else BaseDataElement()
            sample.set_data(dict(pred_img=PixelData(data=recon[i]),
                                 mim_mask=PixelData(data=out['mask'][i][None]),
                                 masked_mse=mse[i]))
            results.append(sample)
        return results

    def _forward(self, inputs: torch.Tensor, data_samples=None):
        out = self.reconstruct(inputs)
        return out['pred']
