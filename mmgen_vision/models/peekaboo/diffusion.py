# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Frozen diffusion guides for score distillation (Peekaboo's dream loss).

:class:`ScoreDistillationGuide` holds everything that does not depend on a particular network:
the noise schedule, timestep sampling, weighting ``w_t``, classifier-free guidance with a cached
unconditional embedding, the per-prompt text-embedding cache and the surrogate loss. The
networks are plain callables, which lets tests and pixel-space models plug in directly.
:class:`StableDiffusionGuide` fills them with Stable Diffusion 1.x/2.x loaded from a local
diffusers-layout directory (see :func:`check_diffusers_dir`; a tiny one for tests is written by
:func:`mmgen_vision.testing.build_tiny_stable_diffusion`).
"""
import importlib.util
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer
from .diffusers_dir import check_diffusers_dir, stable_diffusion_scheduler
from .losses import score_distillation_loss

WEIGHTINGS = ('constant', '1-alphas_cumprod', 'sqrt(1-alphas_cumprod)')

@MODELS.register_module()
class ScoreDistillationGuide(nn.Module):
    """Score distillation with a frozen text-conditioned denoiser given as callables.

    The gradient sent into latents ``z`` is ``w_t (eps_hat - eps)`` with
    ``eps_hat = eps_u + s (eps_c - eps_u)`` (classifier-free guidance, one denoiser call on the
    concatenated unconditional and conditional batch) and the denoiser run without gradients.

    Args:
        noise_model (Callable, optional): ``(noisy (N, C, h, w), timesteps (N,),
            text_emb (N, L, D)) -> eps_hat (N, C, h, w)``. Required unless a subclass overrides
            :meth:`predict_noise`.
        text_encoder (Callable, optional): ``list[str] -> (N, L, D)``. Required unless a
            subclass overrides :meth:`_encode_text`.
        image_encoder (Callable, optional): ``images (N, 3, H, W) in [0, 1] -> latents``. None
            gives pixel space, ``2 x - 1``. Defaults to None.
        scheduler (optional): A diffusers noise scheduler (``DDPMScheduler``,
            ``DDIMScheduler``, ...): its ``alphas_cumprod`` ``alphā_t (T,)`` gives the weights
            and its ``add_noise`` the noisy latents. Defaults to
            :func:`stable_diffusion_scheduler` (scaled-linear 0.00085..0.012, 1000 steps).
        guidance_scale (float): ``s``; 1 disables the unconditional branch. Defaults to 100.
        min_step (int): Smallest sampled timestep. Defaults to 20.
        max_step (int): Largest sampled timestep (inclusive). Defaults to 980.
        weighting (str): ``w_t``, one of ``'constant'``, ``'1-alphas_cumprod'`` (the release)
            and ``'sqrt(1-alphas_cumprod)'``. Defaults to ``'1-alphas_cumprod'``.
        negative_prompt (str): Text of the unconditional branch. Defaults to ``''``.
    """

    def __init__(self,
                 noise_model: Optional[Callable] = None,
                 text_encoder: Optional[Callable] = None,
                 image_encoder: Optional[Callable] = None,
                 scheduler=None,
                 guidance_scale: float = 100.0,
                 min_step: int = 20,
                 max_step: int = 980,
                 weighting: str = '1-alphas_cumprod',
                 negative_prompt: str = '') -> None:
        super().__init__()
        if weighting not in WEIGHTINGS:
            raise ValueError(f'weighting must be one of {WEIGHTINGS}, got {weighting!r}')
        self.noise_model = noise_model
        self.text_encoder_fn = text_encoder
        self.image_encoder_fn = image_encoder
        self.scheduler = scheduler if scheduler is not None else stable_diffusion_scheduler()
        # alphā_t on the guide's device, for the weights w_t (and the device of the draws)
        self.register_buffer('alphas_cumprod', self.scheduler.alphas_cumprod.float().clone(),
                             persistent=False)
        num_steps = self.alphas_cumprod.numel()
        if not 0 <= min_step <= max_step < num_steps:
            raise ValueError(f'need 0 <= min_step <= max_step < {num_steps}, '
                             f'got {min_step}, {max_step}')
        self.guidance_scale = guidance_scale
        self.min_step = min_step
        self.max_step = max_step
        self.weighting = weighting
        self.negative_prompt = negative_prompt
        self._text_cache: Dict[str, Tensor] = {}
        self._latent_shapes: Dict[Tuple[int, int], Tuple[int, ...]] = {}

    # ------------------------------------------------------------------ networks
    @property
    def device(self) -> torch.device:
        return self.alphas_cumprod.device

    def _encode_text(self, prompts: List[str]) -> Tensor:
        """Uncached text encoding ``list[str] -> (N, L, D)``."""
        if self.text_encoder_fn is None:
            raise ValueError(f'{self.__class__.__name__} got no text_encoder')
        return self.text_encoder_fn(prompts)

    def encode_images(self,
                      images: Tensor,
                      generator: Optional[torch.Generator] = None,
                      posterior_noise: Optional[Tensor] = None) -> Tensor:
        """Images ``(N, 3, H, W)`` in ``[0, 1]`` to latents (differentiable).

        ``generator`` and ``posterior_noise`` are unused here (deterministic encoders); see
        :meth:`StableDiffusionGuide.encode_images`.
        """
        if self.image_encoder_fn is None:
            return images * 2 - 1
        return self.image_encoder_fn(images)

    def latent_shape(self, image_size: Sequence[int]) -> Tuple[int, ...]:
        """Shape ``(C, h, w)`` of the latents of ``(3, H, W)`` images, ``image_size = (H, W)``.

        Pixel space keeps the image shape; a custom ``image_encoder`` is probed once per size
        with a blank image.
        """
        key = (int(image_size[0]), int(image_size[1]))
        if self.image_encoder_fn is None:
            return (3, *key)
        if key not in self._latent_shapes:
            with torch.no_grad():
                probe = self.image_encoder_fn(torch.zeros(1, 3, *key, device=self.device))
            self._latent_shapes[key] = tuple(probe.shape[1:])
        return self._latent_shapes[key]

    def draw_noise(self,
                   num: int,
                   image_size: Sequence[int],
                   generator: Optional[torch.Generator] = None) -> Dict[str, Optional[Tensor]]:
        """Every random draw of one dream-loss step for ``num`` images, made up front.

        The order (posterior noise when the encoder samples one, timesteps, then the
        diffusion noise) is the order in which :meth:`encode_images` and
        :meth:`score_distillation_grad` draw them on their own, so passing these draws gives
        the same step as letting them draw, and the result of a step does not depend on how
        the images are split into chunks.

        Args:
            num (int): Number of images ``N``.
            image_size (Sequence[int]): ``(H, W)`` of the images given to the encoder.
            generator (torch.Generator, optional): Source of the draws.

        Returns:
            dict: ``posterior_noise`` (None here), ``timesteps`` ``(N,)`` and ``noise``
            ``(N, *latent_shape)`` (float32), on :attr:`device`.
        """
        timesteps = self.sample_timesteps(num, generator)
        noise = self._randn((num, *self.latent_shape(image_size)), generator)
        return dict(posterior_noise=None, timesteps=timesteps, noise=noise)

    def _randn(self, shape: Sequence[int], generator: Optional[torch.Generator]) -> Tensor:
        """Float32 standard normal draws on the generator's device, moved to :attr:`device`."""
        gen_device = generator.device if generator is not None else self.device
        return torch.randn(tuple(shape), generator=generator, device=gen_device,
                           dtype=torch.float32).to(self.device)

    def predict_noise(self, noisy: Tensor, timesteps: Tensor, text_emb: Tensor) -> Tensor:
        """Denoiser ``(N, C, h, w), (N,), (N, L, D) -> (N, C, h, w)`` (float32 out)."""
        if self.noise_model is None:
            raise ValueError(f'{self.__class__.__name__} got no noise_model')
        return self.noise_model(noisy, timesteps, text_emb).float()

    # ------------------------------------------------------------------ text
    @torch.no_grad()
    def encode_text(self, prompts: Sequence[str]) -> Tensor:
        """Text embeddings ``(N, L, D)`` (float32, no grad), cached per prompt string."""
        prompts = list(prompts)
        new = [p for p in dict.fromkeys(prompts) if p not in self._text_cache]
        if new:
            emb = self._encode_text(new).detach().float()
            for p, e in zip(new, emb):
                self._text_cache[p] = e
        return torch.stack([self._text_cache[p] for p in prompts]).to(self.device)

    def unconditional_embedding(self) -> Tensor:
        """Cached embedding ``(1, L, D)`` of :attr:`negative_prompt`."""
        return self.encode_text([self.negative_prompt])

    def clear_text_cache(self) -> None:
        self._text_cache.clear()

    # ------------------------------------------------------------------ diffusion
    def sample_timesteps(self, num: int, generator: Optional[torch.Generator] = None
                         ) -> Tensor:
        """``num`` integer timesteps uniform in ``[min_step, max_step]``."""
        gen_device = generator.device if generator is not None else self.device
        t = torch.randint(self.min_step, self.max_step + 1, (num, ), generator=generator,
                          device=gen_device)
        return t.to(self.device)

    def add_noise(self, latents: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """``sqrt(alphā_t) z + sqrt(1 - alphā_t) eps`` per sample: the scheduler's
        ``add_noise``."""
        return self.scheduler.add_noise(latents, noise, timesteps)

    def weights(self, timesteps: Tensor) -> Tensor:
        """``w_t`` of shape ``(N,)``."""
        a = self.alphas_cumprod[timesteps]
        if self.weighting == 'constant':
            return torch.ones_like(a)
        if self.weighting == '1-alphas_cumprod':
            return 1 - a
        return (1 - a).sqrt()

    @torch.no_grad()
    def score_distillation_grad(self,
                                latents: Tensor,
                                text_emb: Tensor,
                                generator: Optional[torch.Generator] = None,
                                timesteps: Optional[Tensor] = None,
                                noise: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """``w_t (eps_hat - eps)`` for a batch of latents, one denoiser call in total.

        Args:
            latents (Tensor): ``(N, C, h, w)`` (only the values are used).
            text_emb (Tensor): ``(N, L, D)`` conditional embeddings, one per latent.
            generator (torch.Generator, optional): For ``t`` and ``eps`` when they are not
                given.
            timesteps (Tensor, optional): ``(N,)`` pre-drawn timesteps (:meth:`draw_noise`).
            noise (Tensor, optional): ``(N, C, h, w)`` pre-drawn ``eps``.

        Returns:
            tuple[Tensor, Tensor]: The gradient ``(N, C, h, w)`` (float32) and the
            timesteps ``(N,)``.
        """
        latents = latents.detach().float()
        n = latents.shape[0]
        if timesteps is None:
            timesteps = self.sample_timesteps(n, generator)
        timesteps = timesteps.to(latents.device)
        if noise is None:
            gen_device = generator.device if generator is not None else latents.device
            noise = torch.randn(latents.shape, generator=generator, device=gen_device,
                                dtype=torch.float32)
        elif noise.shape != latents.shape:
            raise ValueError(f'noise {tuple(noise.shape)} does not match latents '
                             f'{tuple(latents.shape)}')
        noise = noise.to(device=latents.device, dtype=torch.float32)
        noisy = self.add_noise(latents, noise, timesteps)
        text_emb = text_emb.to(latents.device)
        if self.guidance_scale == 1:
            eps_hat = self.predict_noise(noisy, timesteps, text_emb)
        else:
            uncond = self.unconditional_embedding().to(text_emb.dtype)
            uncond = uncond.expand(n, *uncond.shape[1:])
            eps = self.predict_noise(
                torch.cat([noisy, noisy]), torch.cat([timesteps, timesteps]),
                torch.cat([uncond, text_emb]))
            eps_u, eps_c = eps.chunk(2)
            eps_hat = eps_u + self.guidance_scale * (eps_c - eps_u)
        w = self.weights(timesteps).view(-1, *([1] * (latents.dim() - 1)))
        grad = w * (eps_hat - noise)
        return torch.nan_to_num(grad), timesteps

    def dream_loss(self,
                   latents: Tensor,
                   text_emb: Tensor,
                   generator: Optional[torch.Generator] = None,
                   timesteps: Optional[Tensor] = None,
                   noise: Optional[Tensor] = None) -> Tensor:
        """Scalar surrogate whose backward sends ``w_t (eps_hat - eps)`` into ``latents``.

        Args:
            latents (Tensor): ``(N, C, h, w)`` with a graph to the mask parameters.
            text_emb (Tensor): ``(N, L, D)``.
            generator (torch.Generator, optional): For ``t`` and ``eps`` when not given.
            timesteps (Tensor, optional): Pre-drawn ``(N,)`` timesteps.
            noise (Tensor, optional): Pre-drawn ``eps`` ``(N, C, h, w)``.
        """
        grad, _ = self.score_distillation_grad(latents, text_emb, generator, timesteps, noise)
        return score_distillation_loss(latents, grad)


@MODELS.register_module()
class StableDiffusionGuide(ScoreDistillationGuide):
    """Frozen Stable Diffusion (1.x/2.x) from a local diffusers-layout directory.

    Loads ``UNet2DConditionModel`` (``unet/``), ``AutoencoderKL`` (``vae/``), the CLIP text
    model (``text_encoder/``, transformers ``CLIPTextModel``) and the noise schedule of
    ``scheduler/`` (read as a ``DDPMScheduler``: its ``alphas_cumprod`` and ``add_noise``),
    all with ``local_files_only=True``. Prompts are tokenized with
    :class:`~mmgen_vision.utils.CLIPTokenizer`. All networks are frozen
    (``requires_grad=False``, always in eval mode). Test helper:
    :func:`mmgen_vision.testing.build_tiny_stable_diffusion`.

    Args:
        pretrained_path (str): The local directory (see :func:`check_diffusers_dir`).
        half_precision (bool): Run the frozen networks in float16 when they are on CUDA
            (ignored on CPU). Defaults to True.
        pad_token (str): ``'eot'`` (SD 1.x), ``'zero'`` (SD 2.x) or ``'auto'`` (read
            ``tokenizer/special_tokens_map.json`` when present: pad ``'!'`` means ``'zero'``;
            otherwise ``'eot'``). Defaults to ``'auto'``.
        sample_posterior (bool): Sample the VAE posterior (the release) instead of taking its
            mean. Defaults to True.
        latent_scale (float, optional): Latent scaling; defaults to the VAE's
            ``scaling_factor`` (0.18215 for SD 1.x).
        with_cp (bool): Activation checkpointing of the VAE encoder's blocks, the only network
            the dream loss back-propagates through: their activations are recomputed in the
            backward pass instead of kept, which cuts the working memory of a 512 px
            composite several-fold for about one more encoder forward. Defaults to False.
        **kwargs: ``guidance_scale``, ``min_step``, ``max_step``, ``weighting``,
            ``negative_prompt`` of :class:`ScoreDistillationGuide`.
    """

    def __init__(self,
                 pretrained_path: str,
                 half_precision: bool = True,
                 pad_token: str = 'auto',
                 sample_posterior: bool = True,
                 latent_scale: Optional[float] = None,
                 with_cp: bool = False,
                 **kwargs) -> None:
        check_diffusers_dir(pretrained_path)
        from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
        from transformers import CLIPTextModel

        # without accelerate, diffusers warns and falls back to the plain loading anyway
        low_mem = importlib.util.find_spec('accelerate') is not None
        scheduler = DDPMScheduler.from_pretrained(
            pretrained_path, subfolder='scheduler', local_files_only=True)
        super().__init__(scheduler=scheduler, **kwargs)
        self.pretrained_path = pretrained_path
        self.half_precision = half_precision
        self.sample_posterior = sample_posterior
        self.unet = UNet2DConditionModel.from_pretrained(
            pretrained_path, subfolder='unet', local_files_only=True, torch_dtype=torch.float32,
            low_cpu_mem_usage=low_mem)
        self.vae = AutoencoderKL.from_pretrained(
            pretrained_path, subfolder='vae', local_files_only=True, torch_dtype=torch.float32,
            low_cpu_mem_usage=low_mem)
        self.text_encoder = CLIPTextModel.from_pretrained(
            pretrained_path, subfolder='text_encoder', local_files_only=True)
        for net in (self.unet, self.vae, self.text_encoder):
            net.requires_grad_(False)
            net.eval()
        self.with_cp = with_cp
        if with_cp:
            self.vae.enable_gradient_checkpointing()
        self.latent_scale = (latent_scale if latent_scale is not None else float(
            getattr(self.vae.config, 'scaling_factor', 0.18215)))
        self.vae_scale_factor = 2**(len(self.vae.config.block_out_channels) - 1)
        if pad_token == 'auto':
            pad_token = self._read_pad_token(pretrained_path)
        self.tokenizer = CLIPTokenizer(
            context_length=int(self.text_encoder.config.max_position_embeddings),
            pad_token=pad_token)

    @staticmethod
    def _read_pad_token(path: str) -> str:
        for name in ('special_tokens_map.json', 'tokenizer_config.json'):
            file = osp.join(path, 'tokenizer', name)
            if osp.isfile(file):
                with open(file) as f:
                    pad = json.load(f).get('pad_token')
                if isinstance(pad, dict):
                    pad = pad.get('content')
                if pad is not None:
                    return 'zero' if pad == '!' else 'eot'
        return 'eot'

    def train(self, mode: bool = True) -> 'StableDiffusionGuide':
        """The frozen networks stay in eval mode whatever ``mode`` is."""
        super().train(mode)
        for net in (self.unet, self.vae, self.text_encoder):
            net.eval()
        return self

    @property
    def dtype(self) -> torch.dtype:
        """float16 on CUDA with ``half_precision``, else float32."""
        if self.half_precision and self.device.type == 'cuda':
            return torch.float16
        return torch.float32

    def _sync_precision(self) -> None:
        dtype = self.dtype
        for net in (self.unet, self.vae, self.text_encoder):
            if next(net.parameters()).dtype != dtype:
                net.to(dtype)

    def _encode_text(self, prompts: List[str]) -> Tensor:
        self._sync_precision()
        ids = self.tokenizer(prompts).to(self.device)
        return self.text_encoder(input_ids=ids).last_hidden_state.float()

    def latent_shape(self, image_size: Sequence[int]) -> Tuple[int, ...]:
        """``(latent_channels, H / f, W / f)`` with ``f`` the VAE downsampling factor."""
        f = self.vae_scale_factor
        return (int(self.vae.config.latent_channels), int(image_size[0]) // f,
                int(image_size[1]) // f)

    def draw_noise(self,
                   num: int,
                   image_size: Sequence[int],
                   generator: Optional[torch.Generator] = None) -> Dict[str, Optional[Tensor]]:
        """As :meth:`ScoreDistillationGuide.draw_noise`, with the VAE posterior noise
        ``(N, *latent_shape)`` drawn first when ``sample_posterior`` is set."""
        posterior_noise = None
        if self.sample_posterior:
            posterior_noise = self._randn((num, *self.latent_shape(image_size)), generator)
        draws = super().draw_noise(num, image_size, generator)
        draws['posterior_noise'] = posterior_noise
        return draws

    def encode_images(self,
                      images: Tensor,
                      generator: Optional[torch.Generator] = None,
                      posterior_noise: Optional[Tensor] = None) -> Tensor:
        """Images ``(N, 3, H, W)`` in ``[0, 1]`` to scaled VAE latents
        ``(N, 4, H / f, W / f)`` (float32), differentiable w.r.t. ``images``.

        With ``sample_posterior`` the latents are ``mean + std * eps``, ``eps`` taken from
        ``posterior_noise`` when given (see :meth:`draw_noise`), else drawn from
        ``generator``.
        """
        self._sync_precision()
        dist = self.vae.encode((images * 2 - 1).to(self.dtype)).latent_dist
        if self.sample_posterior and posterior_noise is not None:
            if posterior_noise.shape != dist.mean.shape:
                raise ValueError(f'posterior_noise {tuple(posterior_noise.shape)} does not '
                                 f'match the latents {tuple(dist.mean.shape)}')
            latents = dist.mean + dist.std * posterior_noise.to(dist.mean)
        elif self.sample_posterior:
            if generator is not None and generator.device != dist.mean.device:
                eps = torch.randn(dist.mean.shape, generator=generator,
                                  device=generator.device).to(dist.mean)
                latents = dist.mean + dist.std * eps
            else:
                latents = dist.sample(generator=generator)
        else:
            latents = dist.mean
        return latents.float() * self.latent_scale

    def predict_noise(self, noisy: Tensor, timesteps: Tensor, text_emb: Tensor) -> Tensor:
        self._sync_precision()
        dtype = self.dtype
        out = self.unet(noisy.to(dtype), timesteps, encoder_hidden_states=text_emb.to(dtype))
        return out.sample.float()
