# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo: alpha parameterisations, losses, guides (tiny diffusers pipeline through the real
loading path) and the optimisation itself against an analytic score model.

Thresholds: IoU > 0.8 with the favoured region (referring, raster and Fourier+bilateral),
per-class IoU > 0.8 in semantic mode; gravity alone: max alpha < 0.05; intersection: overlap
``min(alpha_0, alpha_1) < 0.1`` while the winner keeps > 0.5 and exclusive parts > 0.9.
"""
import os

import pytest
import torch
from mmseg.structures import SegDataSample

from mmgen_vision.models.peekaboo import (FourierAlpha, PeekabooSegmentor, RasterAlpha,
                                          ScoreDistillationGuide, StableDiffusionGuide,
                                          check_diffusers_dir, gravity_loss, intersection_loss)
from mmgen_vision.registry import MODELS
from mmgen_vision.testing import build_tiny_stable_diffusion

SIZE = 32


# ----------------------------------------------------------------------------- helpers
def textured_image(size=SIZE, seed=0):
    """A binary random texture in {0.1, 0.9}, ``(1, 3, size, size)``."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 3, size, size, generator=g) > 0.5).float() * 0.8 + 0.1


def analytic_guide(image, regions, **kwargs):
    """A pixel-space guide whose denoiser believes in 'the image inside region r, a uniform
    colour elsewhere'; the prompt is the index r of the region.

    Its x0 estimate is the image inside r and the mean colour of the noisy input outside, so
    ``eps_hat - eps = sqrt(a / (1 - a)) (x_hat - x0)`` (plus the mean noise outside): the
    dream gradient favours exactly the region r.
    """
    guide = ScoreDistillationGuide(
        text_encoder=lambda prompts: torch.tensor([[[float(int(p))]] for p in prompts]),
        **kwargs)
    target = image * 2 - 1

    def noise_model(noisy, t, emb):
        a = guide.alphas_cumprod[t].view(-1, 1, 1, 1)
        r = regions[emb[:, 0, 0].long()][:, None].float()
        x = noisy / a.sqrt()
        mean_out = (x * (1 - r)).sum((2, 3), keepdim=True) / (1 - r).sum(
            (2, 3), keepdim=True).clamp(min=1)
        x0 = r * target + (1 - r) * mean_out
        return (noisy - a.sqrt() * x0) / (1 - a).sqrt()

    guide.noise_model = noise_model
    return guide


def iou(pred, gt):
    return ((pred & gt).sum() / (pred | gt).sum()).item()


@pytest.fixture(scope='module')
def tiny_sd(tmp_path_factory):
    return build_tiny_stable_diffusion(str(tmp_path_factory.mktemp('tiny_sd')), image_size=64)


# ----------------------------------------------------------------------------- alphas
@pytest.mark.parametrize('cfg', [
    dict(type='RasterAlpha', init_std=1.0),
    dict(type='FourierAlpha', num_frequencies=8, hidden_channels=16, num_layers=2),
    dict(type='FourierAlpha', num_frequencies=8, hidden_channels=16, num_layers=2,
         bilateral=dict(kernel_size=3, sigma=5.0, color_tolerance=0.08, num_iters=3)),
])
def test_alpha_shapes_range_and_independence(cfg):
    alpha = MODELS.build(dict(cfg, num_masks=3, size=(16, 12), num_images=2))
    alpha.set_guide(torch.rand(2, 3, 20, 20))
    out = alpha()
    assert out.shape == (2, 3, 16, 12)
    assert out.min() >= 0 and out.max() <= 1
    # images have independent parameters: image 1's output does not depend on image 0's
    out[1].sum().backward()
    # every parameter's leading dim is split by image (grouped convs, per-image rasters)
    grads = [p.grad for p in alpha.parameters() if p.grad is not None]
    assert grads and all(g.reshape(2, -1)[0].abs().sum() == 0 for g in grads)
    assert any(g.reshape(2, -1)[1].abs().sum() > 0 for g in grads)
    if isinstance(alpha, FourierAlpha):
        # features are a fixed buffer, computed once
        assert not alpha.features.requires_grad
        assert alpha.features.shape == (1, 2 * 2 * 8, 16, 12)


def test_bilateral_follows_guide_edges():
    guide = torch.zeros(1, 3, 16, 16)
    guide[..., 8:] = 1.0  # a colour edge between columns 7 and 8
    logits = torch.full((1, 1, 16, 16), -4.0)
    logits[..., 8:] = 4.0
    smooth = dict(kernel_size=3, sigma=5.0, color_tolerance=0.08, num_iters=40)
    edge = RasterAlpha(size=16, bilateral=smooth)
    edge.set_guide(guide)
    flat = RasterAlpha(size=16, bilateral=smooth)
    flat.set_guide(torch.zeros(1, 3, 16, 16))
    with torch.no_grad():
        edge.logits.copy_(logits)
        flat.logits.copy_(logits)
    # stays sharp across the guide's edge, blurs without one
    assert (edge()[..., 7] < 0.05).all() and (edge()[..., 8] > 0.95).all()
    assert (flat()[..., 7] > 0.2).all() and (flat()[..., 8] < 0.8).all()
    with pytest.raises(RuntimeError, match='set_guide'):
        RasterAlpha(size=16, bilateral=smooth)()


# ----------------------------------------------------------------------------- losses
def test_gravity_pulls_unsupported_mask_to_zero():
    for alpha in (RasterAlpha(num_masks=2, size=16, init_value=2.0),
                  FourierAlpha(num_masks=2, size=16, num_frequencies=8, hidden_channels=16,
                               num_layers=2)):
        optim = torch.optim.SGD(alpha.parameters(), lr=1.0 if isinstance(alpha, RasterAlpha)
                                else 0.01)
        for _ in range(200):
            optim.zero_grad()
            gravity_loss(alpha(), 1.0).backward()
            optim.step()
        assert alpha().max() < 0.05


def test_intersection_separates_overlapping_masks():
    alpha = RasterAlpha(num_masks=2, size=16)
    logits = torch.full((1, 2, 16, 16), -4.0)
    logits[0, 0, :, :10] = 4.0  # mask 0: columns 0..9
    logits[0, 1, :, 6:] = 4.0  # mask 1: columns 6..15, overlap 6..9
    logits[0, 1, :, 6:10] = 2.0  # slightly less confident in the overlap
    with torch.no_grad():
        alpha.logits.copy_(logits)
    a0 = alpha().detach()
    assert torch.minimum(a0[0, 0], a0[0, 1])[:, 6:10].min() > 0.8
    optim = torch.optim.SGD(alpha.parameters(), lr=2.0)
    for _ in range(150):
        optim.zero_grad()
        intersection_loss(alpha(), 1.0).backward()
        optim.step()
    a = alpha().detach()[0]
    overlap = (slice(None), slice(6, 10))
    assert torch.minimum(a[0], a[1])[overlap].max() < 0.1
    assert torch.maximum(a[0], a[1])[overlap].min() > 0.5
    assert a[0][:, :6].min() > 0.9 and a[1][:, 10:].min() > 0.9


# ----------------------------------------------------------------------------- guides
def test_incomplete_diffusers_dir_lists_everything(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        check_diffusers_dir(str(tmp_path / 'nothing'))
    os.makedirs(tmp_path / 'unet')
    (tmp_path / 'unet' / 'config.json').write_text('{}')
    with pytest.raises(FileNotFoundError) as err:
        StableDiffusionGuide(pretrained_path=str(tmp_path))
    msg = str(err.value)
    for piece in ('model_index.json', 'unet/diffusion_pytorch_model.safetensors', 'vae/',
                  'text_encoder/', 'scheduler/'):
        assert piece in msg


def test_stable_diffusion_guide(tiny_sd):
    guide = MODELS.build(dict(type='StableDiffusionGuide', pretrained_path=tiny_sd,
                              half_precision=True, guidance_scale=7.5))
    assert guide.dtype == torch.float32  # half precision is for CUDA only
    assert guide.tokenizer.pad_token_id == 49407
    assert all(not p.requires_grad for p in guide.parameters())
    calls = []
    guide.unet.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    enc_calls = []
    guide.text_encoder.register_forward_hook(lambda m, i, o: enc_calls.append(1))
    emb = guide.encode_text(['a cat', 'a dog', 'a cat'])
    assert emb.shape == (3, 77, 32)
    assert torch.equal(emb[0], emb[2])
    guide.encode_text(['a dog', 'a cat'])
    assert len(enc_calls) == 1  # cached per prompt

    images = torch.rand(3, 3, 64, 64, requires_grad=True)
    latents = guide.encode_images(images, torch.Generator().manual_seed(0))
    assert latents.shape == (3, 4, 8, 8)
    latents.retain_grad()
    guide.dream_loss(latents, emb, torch.Generator().manual_seed(1)).backward()
    # the unconditional and conditional branches of all 3 composites in ONE UNet call
    assert calls == [6]
    expected, _ = guide.score_distillation_grad(latents, emb, torch.Generator().manual_seed(1))
    torch.testing.assert_close(latents.grad, expected)
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is None for p in guide.parameters())
    guide.train()
    assert not guide.unet.training and not guide.vae.training


def test_vae_activation_checkpointing_same_gradient(tiny_sd):
    """``with_cp`` recomputes the VAE encoder's activations in the backward pass: the latents
    and the gradient reaching the image are those of the plain path, and the encoder's
    blocks really start twice (forward + recompute) per backward."""
    grads, runs = [], []
    for with_cp in (False, True):
        guide = MODELS.build(dict(type='StableDiffusionGuide', pretrained_path=tiny_sd,
                                  with_cp=with_cp))
        count = []
        guide.vae.encoder.down_blocks[0].register_forward_pre_hook(lambda *_: count.append(1))
        images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
        images.requires_grad_(True)
        latents = guide.encode_images(images, torch.Generator().manual_seed(1))
        (latents * torch.linspace(-1, 1, latents.numel()).view_as(latents)).sum().backward()
        grads.append((latents.detach(), images.grad))
        runs.append(len(count))
    torch.testing.assert_close(grads[1][0], grads[0][0])
    torch.testing.assert_close(grads[1][1], grads[0][1], rtol=1e-5, atol=1e-7)
    assert runs == [1, 2]


# ----------------------------------------------------------------------------- segmentor
def test_segmentor_tiny_stable_diffusion(tiny_sd, tmp_path):
    """The full path with the tiny pipeline: 2 padded images, 3 classes, a few steps."""
    model = PeekabooSegmentor(
        data_preprocessor=dict(type='mmseg.SegDataPreProcessor', mean=[0., 0., 0.],
                               std=[255., 255., 255.], bgr_to_rgb=True, pad_val=0,
                               seg_pad_val=255),
        guide=dict(type='StableDiffusionGuide', pretrained_path=tiny_sd,
                   guidance_scale=100.0, min_step=20, max_step=980),
        alpha=dict(type='FourierAlpha', num_frequencies=8, scale=10.0, hidden_channels=16,
                   num_layers=2,
                   bilateral=dict(kernel_size=3, sigma=5.0, color_tolerance=0.08,
                                  num_iters=2)),
        mode='semantic', mask_size=32, image_size=64, num_iters=2, num_backgrounds=2,
        class_names=['background', 'cat', 'dog'], intersection_weight=0.1,
        prompt_template='a photo of a {}', show_progress=True,
        evolution_dir=str(tmp_path / 'evo'), evolution_interval=1)
    # already padded to 48 x 48 (bottom / right), as mmseg records it in padding_size
    data = dict(
        inputs=[torch.randint(0, 256, (3, 48, 48), dtype=torch.uint8),
                torch.randint(0, 256, (3, 48, 48), dtype=torch.uint8)],
        data_samples=[
            SegDataSample(metainfo=dict(img_path='a.jpg', img_shape=(40, 48),
                                        ori_shape=(80, 96), padding_size=[0, 0, 0, 8])),
            SegDataSample(metainfo=dict(img_path='b.jpg', img_shape=(48, 40),
                                        ori_shape=(48, 40), padding_size=[0, 8, 0, 0]))
        ])
    model.eval()
    with torch.no_grad():  # as in the test loop: optimisation still gets gradients
        results = model.test_step(data)
    assert results[0].pred_sem_seg.data.shape == (1, 80, 96)
    assert results[1].pred_sem_seg.data.shape == (1, 48, 40)
    assert results[0].seg_logits.data.shape == (2, 80, 96)
    for r in results:
        assert set(r.pred_sem_seg.data.unique().tolist()) <= {0, 1, 2}
    assert all(p.grad is None for p in model.guide.parameters())
    assert sorted(os.listdir(tmp_path / 'evo')) == ['a', 'b']
    assert len(os.listdir(tmp_path / 'evo' / 'a')) == 3  # iterations 0, 1 and the final
    with pytest.raises(RuntimeError, match='no training'):
        model.loss(torch.zeros(1, 3, 8, 8), [])


def test_noise_maths_is_the_diffusers_schedulers():
    """The guide takes alphā_t and the forward noising from a diffusers scheduler (any of
    them), instead of re-deriving the schedule."""
    from diffusers import DDIMScheduler
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                              beta_schedule='scaled_linear')
    guide = ScoreDistillationGuide(text_encoder=lambda p: torch.zeros(len(p), 1, 1),
                                   scheduler=scheduler)
    assert torch.equal(guide.alphas_cumprod, scheduler.alphas_cumprod)
    latents, noise = torch.randn(3, 4, 8, 8), torch.randn(3, 4, 8, 8)
    t = torch.tensor([20, 500, 980])
    assert torch.equal(guide.add_noise(latents, noise, t), scheduler.add_noise(latents, noise, t))
    a = scheduler.alphas_cumprod[t].view(-1, 1, 1, 1)  # the definition, for the record
    torch.testing.assert_close(guide.add_noise(latents, noise, t),
                               a.sqrt() * latents + (1 - a).sqrt() * noise)
    default = ScoreDistillationGuide(text_encoder=lambda p: torch.zeros(len(p), 1, 1))
    assert type(default.scheduler).__name__ == 'DDPMScheduler'


def test_optimisation_loop_is_the_engines(tiny_sd, tmp_path):
    """The model defines the problem; the engine's loop iterates, steps the optimiser and
    writes the evolution PNGs. Loop settings stay readable / settable on the model."""
    from mmgen_vision.engine import MaskEvolutionWriter, TestTimeOptimizationLoop
    model = PeekabooSegmentor(
        guide=dict(type='StableDiffusionGuide', pretrained_path=tiny_sd),
        alpha=dict(type='RasterAlpha', init_std=1.0), mode='referring', mask_size=16,
        image_size=64, num_iters=3, show_progress=False, evolution_dir=str(tmp_path / 'evo'),
        evolution_interval=2)
    assert isinstance(model.loop, TestTimeOptimizationLoop)
    assert isinstance(model.loop.writer, MaskEvolutionWriter)
    model.num_iters = 2  # as tools/analysis_tools/benchmark_peekaboo.py does
    assert model.loop.num_iters == 2
    steps = []
    step = model.problem_step
    model.problem_step = lambda problem: steps.append(1) or step(problem)
    metas = [dict(img_path='a.png')]
    out = model.optimize(torch.rand(1, 3, 16, 16), [['a cat']], metas)
    assert out.shape == (1, 1, 16, 16) and len(steps) == 2
    assert sorted(os.listdir(tmp_path / 'evo' / 'a')) == ['iter_00000.png', 'iter_00002.png']
    with pytest.raises(ValueError, match='same number of prompts'):
        model.init_problem(torch.rand(2, 3, 16, 16), [['a'], ['b', 'c']])


@pytest.mark.parametrize('alpha, lr, num_iters', [
    (dict(type='RasterAlpha'), 1.0, 60),
    (dict(type='FourierAlpha', num_frequencies=16, scale=3.0, hidden_channels=32, num_layers=2,
          bilateral=dict(kernel_size=3, sigma=5.0, color_tolerance=0.08, num_iters=5)), 0.01,
     40),
])
def test_referring_reaches_favoured_region(alpha, lr, num_iters):
    image = textured_image()
    region = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    region[8:24, 6:20] = True
    guide = analytic_guide(image, region[None], guidance_scale=1.0)
    model = PeekabooSegmentor(
        guide=guide, alpha=alpha, mode='referring', mask_size=SIZE, image_size=SIZE,
        num_iters=num_iters, num_backgrounds=2, optimizer=dict(type='SGD', lr=lr),
        gravity_weight=0.001, show_progress=False, seed=3)
    meta = dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), text='0')
    out = model.predict(image, [SegDataSample(metainfo=meta)])
    pred = out[0].pred_sem_seg.data[0].bool()
    assert iou(pred, region) > 0.8
    # deterministic for a given seed
    again = model.predict(image, [SegDataSample(metainfo=meta)])
    assert torch.equal(out[0].seg_logits.data, again[0].seg_logits.data)
    with pytest.raises(KeyError, match='text'):
        model.predict(image, [SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE)))])


def test_semantic_label_map_with_background_rule():
    image = textured_image(seed=1)
    regions = torch.zeros(2, SIZE, SIZE, dtype=torch.bool)
    regions[0, 4:28, 2:14] = True
    regions[1, 4:28, 18:30] = True
    guide = analytic_guide(image, regions, guidance_scale=1.0)
    model = PeekabooSegmentor(
        guide=guide, alpha=dict(type='RasterAlpha'), mode='semantic', mask_size=SIZE,
        image_size=SIZE, num_iters=60, num_backgrounds=1, optimizer=dict(type='SGD', lr=1.0),
        gravity_weight=0.001, intersection_weight=0.01, class_names=['background', '0', '1'],
        background_index=0, show_progress=False)
    # two images optimised together; the second one's metainfo says it was flipped, so its
    # label map comes back mirrored
    images = torch.cat([image, image])
    metas = [dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE)),
             dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE), flip=True,
                  flip_direction='horizontal')]
    out = model.predict(images, [SegDataSample(metainfo=m) for m in metas])
    for r, flip in zip(out, (False, True)):
        label = r.pred_sem_seg.data[0]
        if flip:
            label = label.flip(-1)
        assert iou(label == 1, regions[0]) > 0.8
        assert iou(label == 2, regions[1]) > 0.8
        assert iou(label == 0, ~regions.any(0)) > 0.8


def test_semantic_rename_prompts_the_mapped_text():
    """``rename`` puts the mapped text in a class's prompt (here the analytic guide's region
    index: the class names themselves are no prompt it can read), unlisted classes keep their
    name, and the labels stay the class order."""
    image = textured_image(seed=2)
    regions = torch.zeros(2, SIZE, SIZE, dtype=torch.bool)
    regions[0, 4:28, 2:14] = True
    regions[1, 4:28, 18:30] = True
    guide = analytic_guide(image, regions, guidance_scale=1.0)
    prompted = []
    encode = guide.text_encoder_fn
    guide.text_encoder_fn = lambda prompts: prompted.extend(prompts) or encode(prompts)
    # label 1 'box' is region 1, label 2 'orb' region 0: the mapping, not the label, decides
    model = PeekabooSegmentor(
        guide=guide, alpha=dict(type='RasterAlpha'), mode='semantic', mask_size=SIZE,
        image_size=SIZE, num_iters=60, optimizer=dict(type='SGD', lr=1.0),
        gravity_weight=0.001, intersection_weight=0.01, class_names=['sky', 'box', 'orb'],
        background='sky', rename=dict(box='1', orb='0'), show_progress=False)
    assert model.prompt_class_names == ['1', '0']
    meta = dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE))
    label = model.predict(image, [SegDataSample(metainfo=meta)])[0].pred_sem_seg.data[0]
    assert sorted(set(prompted)) == ['0', '1']
    assert iou(label == 1, regions[1]) > 0.8
    assert iou(label == 2, regions[0]) > 0.8
    # a partial mapping with a template; mistakes stop at build time
    partial = PeekabooSegmentor(guide=guide, alpha=dict(type='RasterAlpha'), mode='semantic',
                                class_names=['sky', 'box', 'orb'], background=None,
                                rename=dict(orb='red circle'), prompt_template='a {}',
                                show_progress=False)
    assert partial.prompt_class_names == ['a sky', 'a box', 'a red circle']
    with pytest.raises(ValueError, match=r"rename keys \['ball'\] are not class names"):
        PeekabooSegmentor(guide=guide, alpha=dict(type='RasterAlpha'), mode='semantic',
                          class_names=['sky', 'orb'], rename=dict(ball='red circle'))
    with pytest.raises(ValueError, match='in referring mode the prompt is the expression'):
        PeekabooSegmentor(guide=guide, alpha=dict(type='RasterAlpha'), mode='referring',
                          rename=dict(orb='red circle'))


def test_sd_v1_architecture_matches_release_sizes():
    """The random SD 1.x stand-in used by the benchmark has the released v1.4 sizes (parameter
    counts of its UNet, VAE and CLIP text transformer), built on the meta device (no memory)."""
    from mmgen_vision.testing import sd_v1_components
    with torch.device('meta'):
        parts = sd_v1_components()
    counts = {name: sum(p.numel() for p in part.parameters()) for name, part in parts.items()}
    assert counts == dict(unet=859_520_964, vae=83_653_863, text_encoder=123_060_480)
    assert parts['unet'].config.cross_attention_dim == parts['text_encoder'].config.hidden_size
    assert parts['vae'].config.scaling_factor == pytest.approx(0.18215)
