# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The two training changes that made the tiny text-to-image model use its prompt (zoomed
object composites) and the probe that measures it (``tools/misc/train_tiny_text2img.py``)."""
import os.path as osp
from types import SimpleNamespace

import torch

from conftest import REPO_ROOT, load_script

script = load_script(osp.join(REPO_ROOT, 'tools/misc/train_tiny_text2img.py'), 'tiny_t2i_cond')


def _objects(num=6, size=48, seed=0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand((num, 3, size, size), generator=gen)
    objects = []
    for i in range(num):
        y, x = torch.randint(0, size - 8, (2, ), generator=gen).tolist()
        h, w = torch.randint(2, 8, (2, ), generator=gen).tolist()
        m = torch.zeros(1, size, size)
        m[:, y:y + h, x:x + w] = 1
        objects.append((i, m, [f'the thing {i}'], ('circle', 'square')[i % 2]))
    return images, objects


def test_zoomed_composites_keep_the_whole_object():
    images, objects = _objects()
    sampler = script.PairSampler(images, objects, [['a scene']] * len(images), 1.0, 0.0, 0,
                                 out_size=16, zoom_prob=1.0)
    for _, m, _, _ in objects:
        for _ in range(20):
            crop = sampler._zoom(m.expand(3, -1, -1), m)
            assert crop.shape[-1] == crop.shape[-2] >= 8
            assert crop[0].sum() == m.sum()  # every object pixel is inside the crop
            # the object fills at least 1/16 of the crop's bounding square
            side = crop.shape[-1]
            ys, xs = torch.nonzero(m[0], as_tuple=True)
            obj = max(int(ys.max() - ys.min()) + 1, int(xs.max() - xs.min()) + 1)
            assert side <= max(round(4 * obj), obj + 2, 8)
    x, texts = sampler.sample(5)
    assert x.shape == (5, 3, 16, 16) and len(texts) == 5


class _Vae(torch.nn.Module):
    config = SimpleNamespace(scaling_factor=1.0)

    def encode(self, x):
        return SimpleNamespace(latent_dist=SimpleNamespace(mean=x[:, :1].repeat(1, 4, 1, 1)))


class _Text(torch.nn.Module):
    config = SimpleNamespace(max_position_embeddings=8)

    def forward(self, input_ids):
        return SimpleNamespace(last_hidden_state=input_ids.float()[..., None].repeat(1, 1, 4))


class _Unet(torch.nn.Module):
    """``eps_hat = noisy + use_text * mean(text_emb)``: ignores the text when 0."""

    def __init__(self, use_text):
        super().__init__()
        self.use_text = use_text

    def forward(self, noisy, t, encoder_hidden_states):
        shift = encoder_hidden_states.mean((1, 2)).view(-1, 1, 1, 1) * 1e-5 * self.use_text
        return SimpleNamespace(sample=noisy * 0.5 + shift)


def test_probe_reports_no_gap_for_a_model_that_ignores_the_text():
    from mmgen_vision.models.peekaboo.diffusers_dir import stable_diffusion_scheduler
    images, objects = _objects()
    sched = stable_diffusion_scheduler()
    blind = script.probe_conditioning(_Unet(0), _Text(), _Vae(), sched, images, objects)
    assert blind['own'] == blind['wrong'] == blind['empty']
    assert blind['gap'] == 0 and blind['gap_obj'] == 0 and blind['win'] == 0
    assert blind['num'] == len(objects)
    seeing = script.probe_conditioning(_Unet(1), _Text(), _Vae(), sched, images, objects)
    assert seeing['own'] != seeing['wrong']
