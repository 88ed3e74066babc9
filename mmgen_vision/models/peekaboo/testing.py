# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A tiny, randomly initialised Stable Diffusion in diffusers layout, for tests.

:func:`build_tiny_stable_diffusion` writes a complete directory (``model_index.json``,
``unet/``, ``vae/``, ``text_encoder/``, ``scheduler/``) with ``save_pretrained`` so that
:class:`~mmgen_vision.models.peekaboo.StableDiffusionGuide` can load it through its real
loading path, with no download.
"""
import os

import torch

from .diffusion import save_diffusers_dir, stable_diffusion_scheduler


def build_tiny_stable_diffusion(save_dir: str, image_size: int = 64, seed: int = 0) -> str:
    """Write a tiny Stable Diffusion 1.x-like pipeline to ``save_dir``.

    Components: ``UNet2DConditionModel`` (channels 32/64, one cross-attention block,
    ``cross_attention_dim=32``), ``AutoencoderKL`` (4 blocks of 16 channels: downsampling
    factor 8 as in SD, 4 latent channels), a 2-layer ``CLIPTextModel`` (hidden 32, vocabulary
    49408, 77 positions) and a ``DDPMScheduler`` with scaled-linear betas 0.00085..0.012.

    Args:
        save_dir (str): Output directory (created).
        image_size (int): Image resolution the UNet's ``sample_size`` is set for
            (``image_size // 8``). Defaults to 64.
        seed (int): Seed of the random weights. Defaults to 0.

    Returns:
        str: ``save_dir``.
    """
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    os.makedirs(save_dir, exist_ok=True)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=image_size // 8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'),
        up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=16)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=('DownEncoderBlock2D', ) * 4,
        up_block_types=('UpDecoderBlock2D', ) * 4,
        block_out_channels=(16, 16, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=image_size)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
            projection_dim=32))
    scheduler = stable_diffusion_scheduler()
    save_diffusers_dir(save_dir, unet=unet, vae=vae, text_encoder=text_encoder,
                       scheduler=scheduler)
    return save_dir
