# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT acceptance test: segmentation must emerge from text supervision alone.

A toy GroupViT is trained on ShapesWorld image-caption shards through ``tools/train.py``
(``configs/groupvit/groupvit_toy_shapesworld.py``: captions + prompted nouns, no mask), then
evaluated zero-shot on ShapesWorld VOC val through ``tools/test.py``
(``groupvit_toy_shapesworld-voc-zeroshot.py``, the training checkpoint as it is). Its mIoU
must beat two label-only baselines computed here from the val labels:

- chance: every pixel labelled uniformly at random among the 6 classes (expected IoU per
  class ``(p/K) / (p + 1/K - p/K)`` for a class covering a fraction ``p`` of the pixels);
- all-background: every pixel labelled background (the majority class).

The data is ShapesWorld's opt-in class-coloured variant (``class_colors=True``: red circles,
green squares, blue triangles, yellow stars, as the captions say; same layouts and masks as the
default). With the default random colours, a ViT of the toy's size does not learn to tell the
four shapes apart within CPU minutes even with labels (configs/groupvit/README.md, toy section);
the toy checks that segments emerge from captions alone, not that a tiny ViT learns shape.

``GROUPVIT_E2E_SEED`` (default 0) sets the training seed (``randomness.seed``) and the tools run
with the caller's ``OMP_NUM_THREADS`` (default 1), so that the check can be repeated over seeds
and thread counts, e.g. ``GROUPVIT_E2E_SEED=2 OMP_NUM_THREADS=2 pytest <this file>`` (the
README's toy table records seeds 0 / 1 / 2 at 1 thread and seed 0 at 2 threads).

``test_shipped_checkpoint_meets_the_main_job_bar`` evaluates the checkpoint that ``make demo
JOB=groupvit`` starts from (this file's run at seed 0 / one thread, shipped in
``checkpoints/groupvit_toy_shapesworld``) against the main job's bar, all-background + 3.
"""
import os
import os.path as osp
import time

import pytest

from conftest import REPO_ROOT, latest_metrics, run_tool
from mmgen_vision.evaluation.baselines import segmentation_baselines, voc_pixel_counts

pytestmark = pytest.mark.slow

TRAIN_CONFIG = osp.join(REPO_ROOT, 'configs/groupvit/groupvit_toy_shapesworld.py')
TEST_CONFIG = osp.join(REPO_ROOT, 'configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py')
NUM_TRAIN = 1024  # ShapesWorld training scenes (rendering them takes ~15 s)
NUM_VAL = 64
CLASS_COLORS = True  # the class-coloured variant, see the module docstring
IMAGE_SIZE = 64  # the toy config's img_size
NUM_CLASSES = 6  # background + circle, square, triangle, star, person
# The trained model must beat each baseline by at least this many mIoU points (percent), so
# that a tie with a degenerate prediction does not pass.
MIN_MARGIN = 1.0
# Wall-clock budget of the training run on 2 CPU cores (the config's max_iters fits in it).
TRAIN_BUDGET_S = 240
SEED = int(os.environ.get('GROUPVIT_E2E_SEED', '0'))
THREADS = os.environ.get('OMP_NUM_THREADS', '1')


def _baselines(voc_root: str) -> dict:
    """mIoU (percent) of the chance and all-background predictions, over the classes present
    in the val labels (as mmseg's IoUMetric averages)."""
    base = segmentation_baselines(voc_pixel_counts(voc_root, NUM_CLASSES), background_index=0)
    return dict(chance=base['chance'], all_background=base['all_background'])


def _no_workers(prefix: str) -> list:
    return [f'{prefix}.num_workers=0', f'{prefix}.persistent_workers=False']


@pytest.fixture(scope='module')
def zero_shot(tmp_path_factory) -> dict:
    """Train the toy GroupViT through tools/train.py, evaluate it zero-shot through
    tools/test.py; return its mIoU and the two baselines."""
    from mmgen_vision.datasets import generate_shapesworld
    tmp_path = tmp_path_factory.mktemp('groupvit')
    roots = generate_shapesworld(str(tmp_path / 'shapesworld'), num_train=NUM_TRAIN,
                                 num_val=NUM_VAL, image_size=IMAGE_SIZE, seed=0,
                                 formats=('shards', 'voc'), samples_per_shard=128,
                                 class_colors=CLASS_COLORS)
    work_dir = str(tmp_path / 'train')
    start = time.time()
    run_tool(['tools/train.py', TRAIN_CONFIG, '--work-dir', work_dir, '--cfg-options',
              f'train_dataloader.dataset.data_root={roots["shards"]}', f'randomness.seed={SEED}'],
             env={'OMP_NUM_THREADS': THREADS}, timeout=3 * TRAIN_BUDGET_S)
    train_s = time.time() - start
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    assert osp.isfile(checkpoint)

    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', TEST_CONFIG, checkpoint, '--work-dir', test_dir,
              '--cfg-options', f'test_dataloader.dataset.data_root={roots["voc"]}'] +
             _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    miou = latest_metrics(test_dir)['mIoU']
    base = _baselines(roots['voc'])
    report = (f'toy GroupViT (seed {SEED}, {THREADS} threads) zero-shot mIoU {miou:.2f} vs '
              f'chance {base["chance"]:.2f} and all-background {base["all_background"]:.2f} '
              f'(training {train_s:.0f} s)')
    print(report)
    return dict(miou=miou, report=report, **base)


def test_zero_shot_pipeline_beats_chance(zero_shot):
    """Text-only training, then zero-shot evaluation through the tools, beats uniform chance."""
    assert zero_shot['miou'] >= zero_shot['chance'] + MIN_MARGIN, zero_shot['report']


def test_zero_shot_segmentation_beats_all_background(zero_shot):
    """The paper's central claim at toy scale: segments emerge from text supervision."""
    assert zero_shot['miou'] >= zero_shot['all_background'] + MIN_MARGIN, zero_shot['report']


SHIPPED = osp.join(REPO_ROOT, 'checkpoints', 'groupvit_toy_shapesworld',
                   'groupvit_toy_shapesworld_seed0.pth')
# the main job's bar (tools/misc/main_job.py: all-background + 3), which the shipped checkpoint
# meets on every machine; training from scratch meets it on some seeds / thread counts only
# (configs/groupvit/README.md)
MAIN_JOB_MARGIN = 3.0


@pytest.fixture(scope='module')
def shipped_zero_shot(tmp_path_factory) -> dict:
    """The checkpoint that ``make demo JOB=groupvit`` starts from (the toy config, seed 0, one
    thread; its command in ``checkpoints/groupvit_toy_shapesworld/COMMAND``), evaluated
    zero-shot on the same val scenes through tools/test.py."""
    from mmgen_vision.datasets import generate_shapesworld
    tmp_path = tmp_path_factory.mktemp('groupvit_shipped')
    # val scenes depend only on (seed, split, index): the same 64 as with 1024 training scenes
    roots = generate_shapesworld(str(tmp_path / 'shapesworld'), num_train=1, num_val=NUM_VAL,
                                 image_size=IMAGE_SIZE, seed=0, formats=('voc', ),
                                 class_colors=CLASS_COLORS)
    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', TEST_CONFIG, SHIPPED, '--work-dir', test_dir, '--cfg-options',
              f'test_dataloader.dataset.data_root={roots["voc"]}'] +
             _no_workers('test_dataloader'), env={'OMP_NUM_THREADS': THREADS})
    base = _baselines(roots['voc'])
    return dict(miou=latest_metrics(test_dir)['mIoU'], **base)


def test_shipped_checkpoint_meets_the_main_job_bar(shipped_zero_shot):
    r = shipped_zero_shot
    assert r['miou'] >= r['all_background'] + MAIN_JOB_MARGIN, r
