# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo end to end through tools/test.py with the toy configs, as a user runs them.

A tiny random Stable Diffusion directory (``build_tiny_stable_diffusion``) stands in for SD
v1.4, ShapesWorld for VOC and RefCOCO; the checkpoint argument is ``none`` (nothing is
trained). The numbers only have to be valid percentages: the toy checks the plumbing (data,
optimisation, prediction at the ground-truth size, metrics), not the accuracy. A missing or
incomplete Stable Diffusion directory must fail with one error naming what is missing.
"""
import glob
import os
import os.path as osp
import shutil

import pytest

from conftest import REPO_ROOT, latest_metrics, run_tool

pytestmark = pytest.mark.slow

VOC_CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py')
REFCOCO_CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py')
NUM_SAMPLES = 3  # evaluated samples per run, to keep the CPU time short


@pytest.fixture(scope='module')
def tiny_sd(tmp_path_factory) -> str:
    from mmgen_vision.testing import build_tiny_stable_diffusion
    return build_tiny_stable_diffusion(str(tmp_path_factory.mktemp('tiny_sd')))


def _options(data_root: str, sd_dir: str, **extra) -> list:
    options = {
        'model.guide.pretrained_path': sd_dir,
        'test_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.indices': NUM_SAMPLES,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
    }
    options.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


def _voc_root(shapesworld_root: str) -> str:
    return osp.join(shapesworld_root, 'voc', 'VOCdevkit', 'VOC2012')


def _refcoco_root(shapesworld_root: str) -> str:
    return osp.join(shapesworld_root, 'refcoco')


def test_semantic_toy_config(tiny_sd, shapesworld_root, tmp_path):
    work_dir = str(tmp_path / 'voc')
    run_tool(['tools/test.py', VOC_CONFIG, 'none', '--work-dir', work_dir] +
             _options(_voc_root(shapesworld_root), tiny_sd))
    metrics = latest_metrics(work_dir)
    assert 'mIoU' in metrics, metrics
    assert 0.0 <= metrics['mIoU'] <= 100.0


def test_referring_toy_config(tiny_sd, shapesworld_root, tmp_path):
    work_dir = str(tmp_path / 'refcoco')
    run_tool(['tools/test.py', REFCOCO_CONFIG, 'none', '--work-dir', work_dir] +
             _options(_refcoco_root(shapesworld_root), tiny_sd))
    metrics = latest_metrics(work_dir)
    for key in ('mIoU', 'cIoU', 'Prec@0.5', 'Prec@0.7', 'Prec@0.9'):
        assert key in metrics, metrics
        assert 0.0 <= metrics[key] <= 100.0, (key, metrics)


def test_missing_stable_diffusion_dir_is_a_clear_error(shapesworld_root, tmp_path):
    missing = str(tmp_path / 'no_such_sd')
    proc = run_tool(['tools/test.py', REFCOCO_CONFIG, 'none', '--work-dir', str(tmp_path / 'w')] +
                    _options(_refcoco_root(shapesworld_root), missing), check=False)
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr and 'no_such_sd' in proc.stderr, proc.stderr[-3000:]


def test_incomplete_stable_diffusion_dir_lists_what_is_missing(tiny_sd, shapesworld_root,
                                                               tmp_path):
    broken = str(tmp_path / 'broken_sd')
    shutil.copytree(tiny_sd, broken)
    shutil.rmtree(osp.join(broken, 'vae'))
    for weights in glob.glob(osp.join(broken, 'unet', '*.safetensors')) + \
            glob.glob(osp.join(broken, 'unet', '*.bin')):
        os.remove(weights)
    proc = run_tool(['tools/test.py', VOC_CONFIG, 'none', '--work-dir', str(tmp_path / 'w')] +
                    _options(_voc_root(shapesworld_root), broken), check=False)
    assert proc.returncode != 0
    tail = proc.stderr[-3000:]
    assert 'Incomplete Stable Diffusion directory' in proc.stderr, tail
    assert 'vae/' in proc.stderr and 'unet/' in proc.stderr, tail
