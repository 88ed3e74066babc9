# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo segments with the shipped *learned* guide, through tools/test.py (issue 14 §2).

The guide is the tiny text-to-image latent diffusion model of
``checkpoints/peekaboo_tiny_t2i_shapesworld`` (trained on class-coloured ShapesWorld captions
by ``tools/misc/train_tiny_text2img.py``; the exact command is in its ``COMMAND`` file), loaded
by the real Stable Diffusion path (``StableDiffusionGuide``). The configs are the tiny-t2i
ones: the optimisation code of the SD v1.4 configs, only the guide directory and the sizes
differ. Every baseline is computed here, from the same val samples:

* referring (ShapesWorld RefCOCO layout, first ``NUM_EXPRESSIONS`` val expressions): mIoU
  >= 20, >= 3 x the whole-image mask, >= the same architecture *untrained* (seeded random
  weights, run through the same command) + 10;
* semantic (ShapesWorld VOC layout, first ``NUM_IMAGES`` val images, the five class names as
  prompts, background where no mask exceeds the config's 0.5): mIoU >= the best constant
  prediction (every pixel one class: all-background wins) + 10.

Short forms of the README's full runs (all 81 expressions / 16 images); the thread count is the
caller's ``OMP_NUM_THREADS`` (default 1). The semantic check costs ~140 CPU seconds (16 s per
image, 5 prompts each), more than the suite's 35-minute budget has left: it runs on demand
(``MMGV_PEEKABOO_SEMANTIC=1``); its measured seeds and thread counts are in
configs/peekaboo/README.md.
"""
import hashlib
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import REPO_ROOT, latest_metrics, run_tool

pytestmark = pytest.mark.slow

GUIDE = osp.join(REPO_ROOT, 'checkpoints', 'peekaboo_tiny_t2i_shapesworld')
REFCOCO_CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-t2i_shapesworld-refcoco.py')
VOC_CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-t2i_shapesworld-voc.py')
NUM_EXPRESSIONS = 16
NUM_IMAGES = 8  # semantic: 49.37 vs 15.18 + 10 at seed 0 (the earlier guide on 4 images missed)
THREADS = os.environ.get('OMP_NUM_THREADS', '1')


@pytest.fixture(scope='module')
def cc_shapesworld(tmp_path_factory) -> str:
    """Class-coloured ShapesWorld val (the val scenes do not depend on ``num_train``)."""
    from mmgen_vision.datasets import generate_shapesworld
    root = str(tmp_path_factory.mktemp('shapesworld_cc'))
    generate_shapesworld(root, num_train=1, num_val=16, image_size=96, seed=0,
                         formats=('refcoco', 'voc'), class_colors=True)
    return root


def _run(config, data_root, guide, num, work_dir):
    options = {
        'model.guide.pretrained_path': guide,
        'test_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.indices': num,
        # 8 samples per optimisation batch (as the main job): 2.2x faster on CPU, every mask
        # the one it gets alone (seeded per image; float rounding apart)
        'test_dataloader.batch_size': 8,
    }
    run_tool(['tools/test.py', config, 'none', '--work-dir', work_dir, '--cfg-options'] +
             [f'{k}={v}' for k, v in options.items()], env={'OMP_NUM_THREADS': THREADS})
    return latest_metrics(work_dir)


def _gt_maps(config, data_root, num):
    """The ground-truth label maps ``(H, W)`` of the first ``num`` samples, as scored."""
    from mmengine.config import Config

    from mmgen_vision.registry import DATASETS
    from mmgen_vision.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config).test_dataloader.dataset
    cfg.update(data_root=data_root, indices=num)
    dataset = DATASETS.build(cfg)
    return [dataset[i]['data_samples'].gt_sem_seg.data[0].numpy() for i in range(len(dataset))]


def _random_twin(src: str, dst: str, seed: int = 0) -> str:
    """The guide's architecture with seeded random weights, written like the guide."""
    import torch
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from mmgen_vision.models.peekaboo.diffusers_dir import save_diffusers_dir
    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(src, subfolder='unet'))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(src, subfolder='vae'))
    text_encoder = CLIPTextModel(CLIPTextConfig.from_pretrained(src, subfolder='text_encoder'))
    scheduler = DDPMScheduler.from_pretrained(src, subfolder='scheduler')
    save_diffusers_dir(dst, unet=unet, vae=vae, text_encoder=text_encoder, scheduler=scheduler)
    return dst


def test_shipped_guide_matches_its_checksums():
    """Every weight file of the shipped directory is the one its ``SHA256SUMS`` names."""
    with open(osp.join(GUIDE, 'SHA256SUMS')) as f:
        lines = [line.split() for line in f if line.strip()]
    assert len(lines) >= 3, lines
    total = 0
    for digest, name in lines:
        path = osp.join(GUIDE, name)
        with open(path, 'rb') as f:
            data = f.read()
        total += len(data)
        assert hashlib.sha256(data).hexdigest() == digest, name
    assert {osp.dirname(name) for _, name in lines} >= {'unet', 'vae', 'text_encoder'}
    assert total <= 25 * 2**20, f'{total / 2**20:.1f} MB > 25 MB'


def test_referring_beats_whole_image_and_random_guide(cc_shapesworld, tmp_path):
    data_root = osp.join(cc_shapesworld, 'refcoco')
    gts = _gt_maps(REFCOCO_CONFIG, data_root, NUM_EXPRESSIONS)
    # the whole image as the mask: IoU = object pixels / valid pixels, per expression
    whole = 100 * np.mean([(g == 1).sum() / (g != 255).sum() for g in gts])
    random_dir = _random_twin(GUIDE, str(tmp_path / 'random_guide'))
    # the two one-thread runs side by side (one core each; the metrics do not depend on it)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(_run, REFCOCO_CONFIG, data_root, guide, NUM_EXPRESSIONS,
                            str(tmp_path / name))
                for guide, name in ((GUIDE, 'learned'), (random_dir, 'random'))]
        learned, rand = (run.result() for run in runs)
    report = (f'referring mIoU over {len(gts)} expressions ({THREADS} threads): learned guide '
              f'{learned["mIoU"]:.2f}, untrained guide {rand["mIoU"]:.2f}, whole image '
              f'{whole:.2f}')
    print(report)
    assert learned['mIoU'] >= 20, report
    assert learned['mIoU'] >= 3 * whole, report
    assert learned['mIoU'] >= rand['mIoU'] + 10, report


@pytest.mark.skipif(os.environ.get('MMGV_PEEKABOO_SEMANTIC') != '1',
                    reason='~140 CPU s, over the suite budget: MMGV_PEEKABOO_SEMANTIC=1 runs it '
                    '(results: configs/peekaboo/README.md)')
def test_semantic_beats_best_constant_prediction(cc_shapesworld, tmp_path):
    data_root = osp.join(cc_shapesworld, 'voc', 'VOCdevkit', 'VOC2012')
    gts = _gt_maps(VOC_CONFIG, data_root, NUM_IMAGES)
    labels = np.concatenate([g[g != 255] for g in gts])
    present = np.unique(labels)
    # every pixel one class c: IoU_c = share of c, the other present classes 0 (mmseg's mIoU
    # averages over the classes present in the ground truth or the prediction)
    constant = max(100 * (labels == c).mean() / len(present) for c in present)
    metrics = _run(VOC_CONFIG, data_root, GUIDE, NUM_IMAGES, str(tmp_path / 'voc'))
    report = (f'semantic mIoU over {len(gts)} images ({THREADS} threads): learned guide '
              f'{metrics["mIoU"]:.2f}, best constant prediction {constant:.2f}')
    print(report)
    assert metrics['mIoU'] >= constant + 10, report
