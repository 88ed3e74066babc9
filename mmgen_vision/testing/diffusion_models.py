# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Randomly initialised Stable Diffusion pipelines in diffusers layout, for tests and benchmarks.

A public utility, not used by the models at run time (see :mod:`mmgen_vision.testing`).

:func:`build_tiny_stable_diffusion` writes a complete directory (``model_index.json``,
``unet/``, ``vae/``, ``text_encoder/``, ``scheduler/``) with ``save_pretrained`` so that
:class:`~mmgen_vision.models.peekaboo.StableDiffusionGuide` can load it through its real
loading path, with no download. :func:`build_sd_v1_architecture` writes the full-size Stable
Diffusion 1.x architecture with random weights: what it costs to run (time, memory) does not
depend on the weights, so it stands in for SD v1.4 in speed and memory benchmarks where the
real weights cannot be fetched.
"""
import os

import torch

from mmgen_vision.models.peekaboo.diffusers_dir import (save_diffusers_dir,
                                                        stable_diffusion_scheduler)


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


def build_sd_v1_architecture(save_dir: str, seed: int = 0) -> str:
    """Write the Stable Diffusion 1.x architecture (v1.4 / v1.5) with random weights.

    The component configurations of the released v1.4 pipeline: ``UNet2DConditionModel``
    (channels 320/640/1280/1280, 2 layers per block, cross-attention of dimension 768 in the
    first three levels, 8 heads, 64 x 64 latents; 860 M parameters), ``AutoencoderKL``
    (channels 128/256/512/512, 2 layers per block, 4 latent channels, 512 px, scaling factor
    0.18215), the CLIP ViT-L/14 text transformer (12 layers, width 768, 12 heads, quick-GELU,
    77 positions) and the scaled-linear ``DDPMScheduler``. About 4.3 GB in float32 on disk.

    Args:
        save_dir (str): Output directory (created).
        seed (int): Seed of the random weights. Defaults to 0.

    Returns:
        str: ``save_dir``.
    """
    os.makedirs(save_dir, exist_ok=True)
    torch.manual_seed(seed)
    save_diffusers_dir(save_dir, scheduler=stable_diffusion_scheduler(),
                       **sd_v1_components())
    return save_dir


def sd_v1_components() -> dict:
    """``unet``, ``vae`` and ``text_encoder`` of the Stable Diffusion 1.x architecture,
    randomly initialised (under ``torch.device('meta')`` nothing is allocated)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=('CrossAttnDownBlock2D', ) * 3 + ('DownBlock2D', ),
        up_block_types=('UpBlock2D', ) + ('CrossAttnUpBlock2D', ) * 3,
        cross_attention_dim=768,
        attention_head_dim=8,
        norm_num_groups=32)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=('DownEncoderBlock2D', ) * 4,
        up_block_types=('UpDecoderBlock2D', ) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        latent_channels=4,
        norm_num_groups=32,
        sample_size=512,
        scaling_factor=0.18215)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            max_position_embeddings=77,
            hidden_act='quick_gelu',
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=1,
            projection_dim=768))
    return dict(unet=unet, vae=vae, text_encoder=text_encoder)
