# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``PeekabooSegmentor.max_guide_batch``: chunked guide calls give the one-call result.

On the tiny random Stable Diffusion (VAE posterior sampled, classifier-free guidance on) with a
fixed seed, the alphas after a few SGD steps must agree (allclose) whatever the chunking, and
each step must make ``ceil(N / max_guide_batch)`` UNet and VAE-encoder calls for the
``N = B * n_b * k`` composites.
"""
import math

import pytest
import torch

from mmgen_vision.models.peekaboo import PeekabooSegmentor
from mmgen_vision.testing import build_tiny_stable_diffusion

NUM_ITERS = 3
NUM_IMAGES = 2  # B
NUM_BACKGROUNDS = 2  # n_b
CLASS_NAMES = ('background', 'circle', 'square', 'star')  # k = 3 prompts
NUM_COMPOSITES = NUM_IMAGES * NUM_BACKGROUNDS * (len(CLASS_NAMES) - 1)  # N = 12


@pytest.fixture(scope='module')
def tiny_sd(tmp_path_factory):
    return build_tiny_stable_diffusion(str(tmp_path_factory.mktemp('tiny_sd')), image_size=32)


@pytest.fixture(scope='module')
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(NUM_IMAGES, 3, 16, 16, generator=g)  # at mask_size


def build_segmentor(tiny_sd, max_guide_batch) -> PeekabooSegmentor:
    """Semantic Peekaboo on the tiny SD (posterior sampling and CFG on, as in the configs)."""
    return PeekabooSegmentor(
        guide=dict(type='StableDiffusionGuide', pretrained_path=tiny_sd, half_precision=False,
                   guidance_scale=100.0),
        alpha=dict(type='FourierAlpha', num_frequencies=8, hidden_channels=16, num_layers=2,
                   bilateral=dict(num_iters=2)),
        mode='semantic',
        class_names=CLASS_NAMES,
        mask_size=16,
        image_size=32,
        num_iters=NUM_ITERS,
        num_backgrounds=NUM_BACKGROUNDS,
        optimizer=dict(type='Adam', lr=1e-2),  # visible mask changes in three steps
        intersection_weight=0.01,
        show_progress=False,
        max_guide_batch=max_guide_batch,
        seed=3)


def count_calls(module):
    """A list that grows by one at every forward of ``module``, and the hook's handle."""
    calls = []
    handle = module.register_forward_hook(lambda *_: calls.append(1))
    return calls, handle


def test_chunked_equals_one_call(tiny_sd, images):
    # one model for all runs: every optimize() restarts from the seed, and only the
    # chunking changes between them
    model = build_segmentor(tiny_sd, None)
    prompts = [list(CLASS_NAMES[1:])] * NUM_IMAGES
    results = {}
    for max_batch in (None, 5):  # 5: chunks of 5, 5 and 2 composites
        model.max_guide_batch = max_batch
        unet_calls, h1 = count_calls(model.guide.unet)
        vae_calls, h2 = count_calls(model.guide.vae.encoder)
        results[max_batch] = model.optimize(images, prompts)
        h1.remove()
        h2.remove()
        expected = math.ceil(NUM_COMPOSITES / (max_batch or NUM_COMPOSITES))
        assert len(unet_calls) == NUM_ITERS * expected, (max_batch, len(unet_calls))
        assert len(vae_calls) == NUM_ITERS * expected, (max_batch, len(vae_calls))
    reference = results[None]
    assert reference.shape == (NUM_IMAGES, len(CLASS_NAMES) - 1, 16, 16)
    # the masks really moved away from their initialisation: the comparison is not vacuous
    model.num_iters = 0
    start = model.optimize(images, prompts)
    assert (reference - start).abs().max() > 1e-3
    torch.testing.assert_close(results[5], reference, rtol=1e-4, atol=1e-5)


def test_invalid_max_guide_batch(tiny_sd):
    with pytest.raises(ValueError, match='max_guide_batch'):
        build_segmentor(tiny_sd, 0)
