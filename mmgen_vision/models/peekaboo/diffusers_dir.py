# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Stable Diffusion directories in the diffusers layout: what :class:`StableDiffusionGuide` needs
(:func:`check_diffusers_dir`), the default noise schedule (:func:`stable_diffusion_scheduler`) and
the writer of such directories (:func:`save_diffusers_dir`)."""
import json
import os
import os.path as osp

from torch import nn

_WEIGHT_FILES = {
    'unet': ('diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'),
    'vae': ('diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'),
    'text_encoder': ('model.safetensors', 'pytorch_model.bin'),
}
_CONFIG_FILES = {
    'unet': 'config.json',
    'vae': 'config.json',
    'text_encoder': 'config.json',
    'scheduler': 'scheduler_config.json',
}


def check_diffusers_dir(path: str) -> None:
    """Check that ``path`` is a complete local Stable Diffusion directory (diffusers layout).

    Needed: ``model_index.json``, ``unet/``, ``vae/`` and ``text_encoder/`` each with
    ``config.json`` and weights (``*.safetensors`` or ``*.bin``), and
    ``scheduler/scheduler_config.json``. ``tokenizer/`` is optional (the CLIP BPE tokenizer of
    :class:`~mmgen_vision.utils.CLIPTokenizer` is used).

    Raises:
        FileNotFoundError: Listing every missing piece at once.
    """
    missing = []
    if not osp.isdir(path):
        raise FileNotFoundError(
            f'Stable Diffusion directory {path!r} does not exist. Download a diffusers-layout '
            'checkpoint (e.g. CompVis/stable-diffusion-v1-4) there; needed: model_index.json, '
            'unet/, vae/, text_encoder/, scheduler/.')
    if not osp.isfile(osp.join(path, 'model_index.json')):
        missing.append('model_index.json')
    for sub, cfg in _CONFIG_FILES.items():
        if not osp.isdir(osp.join(path, sub)):
            missing.append(f'{sub}/ (folder)')
            continue
        if not osp.isfile(osp.join(path, sub, cfg)):
            missing.append(f'{sub}/{cfg}')
        if sub in _WEIGHT_FILES and not any(
                osp.isfile(osp.join(path, sub, f)) for f in _WEIGHT_FILES[sub]):
            missing.append(f'{sub}/{" or ".join(_WEIGHT_FILES[sub])}')
    if missing:
        raise FileNotFoundError(f'Incomplete Stable Diffusion directory {path!r}; missing: ' +
                                ', '.join(missing))


def stable_diffusion_scheduler():
    """The DDPM scheduler of Stable Diffusion 1.x (scaled-linear betas 0.00085..0.012, 1000
    steps): the default noise schedule of :class:`ScoreDistillationGuide`."""
    from diffusers import DDPMScheduler
    return DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                         beta_schedule='scaled_linear', clip_sample=False)


def save_diffusers_dir(save_dir: str, unet: nn.Module, vae: nn.Module, text_encoder: nn.Module,
                       scheduler) -> str:
    """Write a Stable-Diffusion-layout directory that :class:`StableDiffusionGuide` loads.

    ``unet/``, ``vae/``, ``text_encoder/``, ``scheduler/`` via ``save_pretrained`` and a
    ``model_index.json`` naming their classes (no tokenizer: prompts are tokenised with
    :class:`~mmgen_vision.utils.CLIPTokenizer`).
    """
    import diffusers
    os.makedirs(save_dir, exist_ok=True)
    for name, part in dict(unet=unet, vae=vae, text_encoder=text_encoder,
                           scheduler=scheduler).items():
        part.save_pretrained(osp.join(save_dir, name))
    model_index = {
        '_class_name': 'StableDiffusionPipeline',
        '_diffusers_version': diffusers.__version__,
        'unet': ['diffusers', type(unet).__name__],
        'vae': ['diffusers', type(vae).__name__],
        'text_encoder': ['transformers', type(text_encoder).__name__],
        'scheduler': ['diffusers', type(scheduler).__name__],
        'tokenizer': [None, None],
        'safety_checker': [None, None],
        'feature_extractor': [None, None],
        'requires_safety_checker': False,
    }
    with open(osp.join(save_dir, 'model_index.json'), 'w') as f:
        json.dump(model_index, f, indent=2)
    return save_dir
