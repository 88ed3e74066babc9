# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter acceptance test: joint in-context training, then per-task in-context evaluation.

A toy Painter (``configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py``,
inheriting the paper config) is trained JOINTLY on four ShapesWorld tasks (semantic
segmentation, depth, denoising, class-agnostic instances) through ``tools/train.py``; then each
of three tasks is evaluated in context (one prompt pair = training scene 0) through
``tools/test.py`` with the stock metric, against baselines computed here from the val data:

- semantic segmentation (``mmseg.IoUMetric``): mIoU at least ``SEM_MARGIN`` points above
  uniform chance over the 7 classes (expected IoU of a class covering a fraction ``p`` of the
  pixels: ``(p/K) / (p + 1/K - p/K)``);
- depth (``mmseg.DepthMetric``, 1 mm .. 20 m): RMSE at most ``DEPTH_RATIO`` times the RMSE of
  predicting the mean val depth everywhere (the best constant);
- denoising (``RestorationMetric``): PSNR at least ``PSNR_MARGIN`` dB above the PSNR of the noisy
  input itself.

The same trained model then goes through the two prompt workflows of the paper: prompt search
(``tools/test.py`` with ``PainterPromptSearchLoop``: candidates scored on training scenes, the
best kept) and prompt tuning (``tools/train.py`` with ``PainterPromptTuner``, the model frozen),
which must raise the semantic mIoU over the initial prompt (training scene 0).

The checkpoint the Painter main job ships (``checkpoints/painter_toy_shapesworld``) is
re-evaluated on the main job's val scenes against the same semantic bar.

The training runs with ``randomness.seed`` from ``PAINTER_E2E_SEED`` (default 0) and every tool
with the caller's ``OMP_NUM_THREADS`` (default 1), so that the checks can be repeated over seeds
and thread counts, e.g. ``PAINTER_E2E_SEED=1 OMP_NUM_THREADS=2 pytest <this file>``
(configs/painter/README.md records the spread).
"""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO_ROOT, latest_metrics, run_tool
from mmgen_vision.evaluation.baselines import ade_pixel_counts, chance_miou

pytestmark = pytest.mark.slow

TRAIN_CONFIG = osp.join(REPO_ROOT,
                        'configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py')
TEST_CONFIG = osp.join(REPO_ROOT, 'configs/painter/painter_vit-tiny-p4_toy-shapesworld_{}.py')
NUM_TRAIN = 256
NUM_VAL = 16
IMAGE_SIZE = 64
NUM_CLASSES = 7
MAX_ITERS = 1000  # the toy config's schedule
SEM_MARGIN = 5.0  # mIoU points above chance
DEPTH_RATIO = 0.9  # RMSE / RMSE of the constant mean prediction
PSNR_MARGIN = 0.5  # dB above the noisy input
SEED = int(os.environ.get('PAINTER_E2E_SEED', '0'))
THREADS = os.environ.get('OMP_NUM_THREADS', '1')  # the trainings' and tests' threads
SUBDIRS = dict(semseg='ade/ADEChallengeData2016', depth='nyu', denoise='restoration/sidd')


def _no_workers(prefix: str) -> list:
    return [f'{prefix}.num_workers=0', f'{prefix}.persistent_workers=False']


def _pngs(folder: str) -> list:
    return sorted(n for n in os.listdir(folder) if n.endswith('.png'))


def semseg_chance(ade_root: str) -> float:
    """Expected mIoU (percent) of uniformly random labels, over the classes present."""
    return chance_miou(ade_pixel_counts(ade_root, NUM_CLASSES))


def depth_mean_rmse(nyu_root: str, min_depth: float = 1e-3, max_depth: float = 20.) -> float:
    """RMSE (m) of predicting the mean val depth on every evaluated pixel (DepthMetric's mask)."""
    depth_dir = osp.join(nyu_root, 'val', 'depth')
    values = []
    for name in _pngs(depth_dir):
        d = np.asarray(Image.open(osp.join(depth_dir, name))).astype(np.float64) / 1000.
        values.append(d[(d > min_depth) & (d < max_depth)])
    values = np.concatenate(values)
    return float(np.sqrt(np.mean((values - values.mean())**2)))


def noisy_psnr(sidd_root: str) -> float:
    """Mean PSNR (dB, RGB) of the noisy val inputs against their clean targets."""
    from mmgen_vision.evaluation.metrics.restoration_metric import psnr
    in_dir, gt_dir = osp.join(sidd_root, 'val', 'input'), osp.join(sidd_root, 'val', 'target')
    scores = []
    for name in _pngs(in_dir):
        noisy = torch.from_numpy(np.array(Image.open(osp.join(in_dir, name)).convert('RGB')))
        clean = torch.from_numpy(np.array(Image.open(osp.join(gt_dir, name)).convert('RGB')))
        scores.append(psnr(noisy.float(), clean.float()))
    return float(np.mean(scores))


@pytest.fixture(scope='module')
def painter_run(tmp_path_factory) -> dict:
    """Train the toy Painter jointly through tools/train.py, evaluate three tasks in context
    through tools/test.py; return the metrics and the baselines."""
    from mmgen_vision.datasets import generate_shapesworld
    tmp = tmp_path_factory.mktemp('painter')
    roots = generate_shapesworld(str(tmp / 'sw'), num_train=NUM_TRAIN, num_val=NUM_VAL,
                                 image_size=IMAGE_SIZE, seed=0,
                                 formats=('ade', 'nyu', 'restoration', 'coco'))
    base = osp.dirname(roots['nyu'])
    work_dir = str(tmp / 'train')
    train_roots = [f'{base}/{SUBDIRS["semseg"]}', roots['nyu'], f'{base}/{SUBDIRS["denoise"]}',
                   roots['coco']]
    options = [f'train_dataloader.dataset.datasets.{i}.dataset.data_root={r}'
               for i, r in enumerate(train_roots)]
    run_tool(['tools/train.py', TRAIN_CONFIG, '--work-dir', work_dir, '--cfg-options'] + options +
             [f'randomness.seed={SEED}'] + _no_workers('train_dataloader'),
             env={'OMP_NUM_THREADS': THREADS})
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()

    metrics = {}
    for task, sub in SUBDIRS.items():
        root = f'{base}/{sub}'
        test_dir = str(tmp / f'test_{task}')
        run_tool(['tools/test.py', TEST_CONFIG.format(task), checkpoint, '--work-dir', test_dir,
                  '--cfg-options', f'test_dataloader.dataset.dataset.data_root={root}',
                  f'test_dataloader.dataset.prompt.dataset.data_root={root}'] +
                 _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
        metrics[task] = latest_metrics(test_dir)
    semseg_root = f'{base}/{SUBDIRS["semseg"]}'
    # prompt search: 4 candidate prompts scored on 8 other training scenes
    search_dir = str(tmp / 'search')
    run_tool(['tools/test.py', TEST_CONFIG.format('semseg_prompt-search'), checkpoint,
              '--work-dir', search_dir, '--cfg-options',
              f'test_dataloader.dataset.dataset.data_root={semseg_root}',
              f'test_dataloader.dataset.prompt.dataset.data_root={semseg_root}',
              f'test_cfg.candidates.dataset.data_root={semseg_root}',
              'test_cfg.candidates.indices=[0,1,2,3]', 'test_cfg.search_size=8',
              f'test_cfg.search_dataset.data_root={semseg_root}'] +
             _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    with open(osp.join(search_dir, 'prompt_search.json')) as f:
        search = json.load(f)
    metrics['search'] = latest_metrics(search_dir)
    # prompt tuning from the initial prompt (training scene 0), model frozen
    tune_dir = str(tmp / 'tune')
    tune_cfg = TEST_CONFIG.format('semseg_prompt-tuning')
    run_tool(['tools/train.py', tune_cfg, '--work-dir', tune_dir, '--cfg-options',
              f'model.painter_checkpoint={checkpoint}',
              f'model.prompt.dataset.data_root={semseg_root}',
              f'train_dataloader.dataset.dataset.data_root={semseg_root}'] +
             _no_workers('train_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    with open(osp.join(tune_dir, 'last_checkpoint')) as f:
        tuned = f.read().strip()
    run_tool(['tools/test.py', tune_cfg, tuned, '--work-dir', tune_dir, '--cfg-options',
              f'model.painter_checkpoint={checkpoint}',
              f'model.prompt.dataset.data_root={semseg_root}',
              f'test_dataloader.dataset.dataset.data_root={semseg_root}',
              f'test_dataloader.dataset.prompt.dataset.data_root={semseg_root}'] +
             _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    metrics['tuned'] = latest_metrics(tune_dir)
    result = dict(
        search=search, search_miou=metrics['search']['mIoU'], tuned_miou=metrics['tuned']['mIoU'],
        miou=metrics['semseg']['mIoU'], chance=semseg_chance(f'{base}/{SUBDIRS["semseg"]}'),
        rmse=metrics['depth']['rmse'], mean_rmse=depth_mean_rmse(roots['nyu']),
        psnr=metrics['denoise']['restoration/PSNR'],
        noisy_psnr=noisy_psnr(f'{base}/{SUBDIRS["denoise"]}'))
    result['report'] = (
        'toy Painter ({} iters, seed {}, {} threads): mIoU {miou:.2f} vs chance {chance:.2f}; '
        'depth RMSE {rmse:.3f} vs mean-prediction {mean_rmse:.3f}; denoise PSNR {psnr:.2f} vs '
        'noisy input {noisy_psnr:.2f}; prompt search mIoU {search_miou:.2f}, prompt tuning '
        'mIoU {tuned_miou:.2f}'.format(MAX_ITERS, SEED, THREADS, **result))
    print(result['report'])
    return result


def test_semantic_in_context_beats_chance(painter_run):
    assert painter_run['miou'] >= painter_run['chance'] + SEM_MARGIN, painter_run['report']


def test_depth_in_context_beats_mean_prediction(painter_run):
    assert painter_run['rmse'] <= DEPTH_RATIO * painter_run['mean_rmse'], painter_run['report']


def test_denoise_in_context_beats_noisy_input(painter_run):
    assert painter_run['psnr'] >= painter_run['noisy_psnr'] + PSNR_MARGIN, painter_run['report']


def test_prompt_search_keeps_the_best_candidate(painter_run):
    search = painter_run['search']
    assert search['candidates'] == [0, 1, 2, 3] and len(search['scores']) == 4
    best = search['scores'].index(max(search['scores']))
    assert search['best_index'] == search['candidates'][best]
    assert search['best_prompt'].endswith(f'{search["best_index"] + 1:08d}.jpg')


def test_prompt_tuning_raises_the_metric(painter_run):
    """The learned prompt beats the initial prompt it started from (training scene 0).

    With the tuning config's 300 iterations at lr 0.2 (AVX2 machine, 7 Dec 2026), tuned vs
    initial mIoU at seeds 0 / 1 / 2: one thread 30.88 vs 29.69, 30.56 vs 29.09, 32.44 vs 28.07;
    two threads 30.84 vs 30.27, 30.34 vs 28.98, 32.24 vs 27.96. The earlier 40 iterations at
    lr 0.05 hardly moved the prompt (seed 1 failed: 28.62 vs 29.09; configs/painter/README.md)."""
    assert painter_run['tuned_miou'] > painter_run['miou'], painter_run['report']


# the checkpoint that `make demo` (the Painter main job) starts from: the toy config, seed 0,
# two threads, trained on the main job's 512 scenes (command: its folder's COMMAND file)
SHIPPED = osp.join(REPO_ROOT, 'checkpoints', 'painter_toy_shapesworld',
                   'painter_vit-tiny-p4_toy-shapesworld-4tasks_seed0.pth')
MAIN_JOB_NUM_VAL = 32


@pytest.fixture(scope='module')
def shipped_semseg(tmp_path_factory) -> dict:
    """The shipped checkpoint through tools/test.py on the main job's 32 val scenes, prompted
    with training scene 0 as there (a scene depends only on its seed, split and index, so one
    training scene is enough to rebuild both)."""
    from mmgen_vision.datasets import generate_shapesworld
    tmp = tmp_path_factory.mktemp('painter_shipped')
    generate_shapesworld(str(tmp / 'sw'), num_train=1, num_val=MAIN_JOB_NUM_VAL,
                         image_size=IMAGE_SIZE, seed=0, formats=('ade', ))
    root = str(tmp / 'sw' / SUBDIRS['semseg'])
    test_dir = str(tmp / 'test')
    run_tool(['tools/test.py', TEST_CONFIG.format('semseg'), SHIPPED, '--work-dir', test_dir,
              '--cfg-options', f'test_dataloader.dataset.dataset.data_root={root}',
              f'test_dataloader.dataset.prompt.dataset.data_root={root}'] +
             _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    return dict(miou=latest_metrics(test_dir)['mIoU'], chance=semseg_chance(root))


def test_shipped_checkpoint_meets_the_main_job_bar(shipped_semseg):
    """29.55 vs chance 5.20 (bar 10.20) at one and two threads (7 Dec 2026), as the main job
    prints it."""
    r = shipped_semseg
    assert r['miou'] >= r['chance'] + SEM_MARGIN, r
    # the main job's very number: the same scenes, prompt and weights
    assert r['miou'] == pytest.approx(29.55, abs=0.5), r
