# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The flows of docs/own_data.md on a renamed 5-class dataset (issue 15 acceptance).

From ShapesWorld, ``make_seg_folder`` writes ``images/{train,val}`` + ``masks/{train,val}``
with the classes ball, crate, pyramid, heavens, floor (names that appear nowhere in
ShapesWorld; the list does not start with background; star and person are unlabelled, 255).
Each method's smallest config (as in the docs) is trained with ``tools/train.py --max-iters N``
and evaluated with ``tools/test.py``; its mIoU must beat the chance level of that dataset:
predicting the majority class everywhere, 10.4 mIoU on the validation masks (measured when
this was written; the tests recompute it).

Measured on 2 shared CPU cores (5 Dec 2026): GLID from scratch, 100 iterations (~30 s): mIoU
39.4; stock mmseg FCN on the zero-is-background variant, 150 iterations (~35 s): 36.4;
X-Decoder from scratch on the mask folder (semantic maps as per-class masks), 100 iterations
(~25 s): 40.9. Painter (the joint toy reduced to semantic segmentation, then in-context with
a training image of the folder as the prompt), ``--max-iters 40`` (~45 CPU-seconds at 1 thread
with its test): 32.3 (200 iterations by hand: 37.5).

GroupViT learns from image-caption pairs, not masks: it trains on a caption CSV (the toy's
class-coloured ShapesWorld, 1024 scenes, the shape words renamed ball / crate / pyramid) for
half the toy's schedule (``--max-iters 150``, which scales the schedulers with it; ~95
CPU-seconds at 1 thread: the suite's time budget) and is evaluated zero-shot on a 4-class renamed
folder, ``ball, crate, pyramid, backdrop`` with ``background='backdrop'`` (the last class: sky
and ground). It must beat uniform chance and all-backdrop (the majority class) by
``MIN_MARGIN``. Measured at seed 0, 1 thread, on the idle machine: mIoU 19.77 at 150 iterations
(18.02 with the full 300: ball 5.25, crate 0.02, pyramid 0.13, backdrop 66.66 IoU) vs uniform
chance 8.32 and all-backdrop 22.53: chance is beaten, all-backdrop is not (an expected failure
until the toy recipe is robust across seeds; the toy on its own shards misses the same way on
some seeds).

Peekaboo does not train; its own-data flows (semantic with your class names, referring from a
JSON list) are tested in ``test_own_data_referring.py`` as plumbing (the random tiny Stable
Diffusion through tools/test.py, and an oracle guide given the ground truth): no guide that
beats chance is available (docs/own_data.md, Peekaboo).
"""
import glob
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, latest_metrics, run_tool
from own_data_utils import (ADE_TO_BACKDROP, BACKDROP_CLASSES, make_caption_csv, make_seg_folder,
                            majority_miou)

pytestmark = pytest.mark.slow

PAINTER_ITERS = 40  # of the toy's 1000: ~0.6 s each on one core
# GroupViT must beat each label-only baseline by this many mIoU points (as
# tests/test_tools/test_groupvit_e2e.py), so that a tie with a degenerate prediction fails.
MIN_MARGIN = 1.0

GLID_CONFIG = """\
_base_ = ['{repo}/configs/glid/glid_toy_shapesworld-ade-semseg.py']
data_root = '{data}'
train_dataloader = dict(dataset=dict(
    _delete_=True, type='SegFolderDataset', data_root=data_root,
    img_dir='images/train', mask_dir='masks/train', pipeline={{{{_base_.train_pipeline}}}}))
val_dataloader = dict(dataset=dict(
    _delete_=True, type='SegFolderDataset', data_root=data_root,
    img_dir='images/val', mask_dir='masks/val', pipeline={{{{_base_.test_pipeline}}}}))
test_dataloader = val_dataloader
model = dict(
    pretrained=None,  # or dict(checkpoint='work_dirs/glid_toy_shapesworld-pretrain/iter_200.pth')
    seg_head=dict(num_classes=5, loss_cls=dict(class_weight=[1.0] * 5 + [0.1])))
"""

FCN_CONFIG = """\
_base_ = ['{repo}/configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py']
data_root = '{data}'
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
    _delete_=True, type='SegFolderDataset', data_root=data_root, zero_is_background=True,
    img_dir='images/train', mask_dir='masks/train', pipeline={{{{_base_.train_pipeline}}}}))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
    _delete_=True, type='SegFolderDataset', data_root=data_root, zero_is_background=True,
    img_dir='images/val', mask_dir='masks/val', pipeline={{{{_base_.test_pipeline}}}}))
test_dataloader = val_dataloader
model = dict(decode_head=dict(num_classes=5))
"""

XDECODER_CONFIG = """\
_base_ = ['{repo}/configs/xdecoder/xdecoder_toy_shapesworld-joint.py']
data_root = '{data}'
model = dict(task='semantic', class_names=['ball', 'crate', 'pyramid', 'heavens', 'floor'],
             thing_classes=None)  # every class comes as a mask of the semantic map
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmdet.RandomResize', scale=(96, 96), ratio_range=(0.75, 1.5), keep_ratio=True,
         resize_type='mmdet.Resize'),
    dict(type='mmdet.RandomCrop', crop_size=(96, 96), crop_type='absolute',
         allow_negative_crop=True),
    dict(type='SemSegToInstances'),  # semantic map -> one mask + label per class present
    dict(type='PackXDecoderInputs', task='semantic'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(96, 96), keep_ratio=True),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='PackXDecoderInputs', task='semantic'),
]
train_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='SegFolderDataset', data_root=data_root, img_dir='images/train',
                 mask_dir='masks/train', pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True, batch_size=4, num_workers=0, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SegFolderDataset', data_root=data_root, img_dir='images/val',
                 mask_dir='masks/val', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
"""


@pytest.fixture(scope='module')
def own_data(shapesworld_root, tmp_path_factory):
    root = tmp_path_factory.mktemp('own_data')
    return dict(plain=make_seg_folder(shapesworld_root, str(root / 'seg')),
                zero_bg=make_seg_folder(shapesworld_root, str(root / 'seg_bg'),
                                        zero_is_background=True))


def _train_and_test(template, data_root, tmp_path, max_iters):
    config = tmp_path / 'my_config.py'
    config.write_text(template.format(repo=REPO_ROOT, data=data_root))
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/train.py', str(config), '--work-dir', work_dir, '--max-iters',
              str(max_iters)], timeout=600)
    run_tool(['tools/test.py', str(config), osp.join(work_dir, f'iter_{max_iters}.pth'),
              '--work-dir', work_dir], timeout=600)
    return latest_metrics(work_dir)['mIoU']


def test_glid_semseg_on_own_folder_beats_chance(own_data, tmp_path):
    chance = majority_miou(osp.join(own_data['plain'], 'masks', 'val'), 5)
    miou = _train_and_test(GLID_CONFIG, own_data['plain'], tmp_path, max_iters=100)
    print(f'GLID own data: mIoU {miou:.1f} vs majority-class chance {chance:.1f}')
    assert miou > 2 * chance


def test_stock_fcn_on_own_folder_with_background_zero_beats_chance(own_data, tmp_path):
    chance = majority_miou(osp.join(own_data['zero_bg'], 'masks', 'val'), 5,
                           zero_is_background=True)
    miou = _train_and_test(FCN_CONFIG, own_data['zero_bg'], tmp_path, max_iters=150)
    print(f'FCN own data (0 = background): mIoU {miou:.1f} vs chance {chance:.1f}')
    assert miou > 2 * chance


def test_xdecoder_finetunes_on_a_semantic_mask_folder_beats_chance(own_data, tmp_path):
    chance = majority_miou(osp.join(own_data['plain'], 'masks', 'val'), 5)
    miou = _train_and_test(XDECODER_CONFIG, own_data['plain'], tmp_path, max_iters=100)
    print(f'X-Decoder own mask folder: mIoU {miou:.1f} vs chance {chance:.1f}')
    assert miou > 2 * chance


PAINTER_TRAIN_CONFIG = """\
_base_ = ['{repo}/configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py']
load = [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')]
own_train = dict(type='SegFolderDataset', data_root='{data}', img_dir='images/train',
                 mask_dir='masks/train', pipeline=load)
codec = dict(type='SemanticCodec', num_classes=5)
model = dict(codecs=dict(_delete_=True, semantic=codec))
train_dataloader = dict(
    _delete_=True, batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='PainterPairDataset', task='semantic', codec=codec,
                 img_size={{{{_base_.toy_img_size}}}}, augment={{{{_base_.augment}}}},
                 dataset=own_train))
"""

PAINTER_TEST_CONFIG = """\
_base_ = ['{repo}/configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py']
load = [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')]
codec = dict(type='SemanticCodec', num_classes=5)
model = dict(codecs=dict(_delete_=True, semantic=codec))
test_dataloader = dict(dataset=dict(
    codec=codec,
    prompt=dict(dataset=dict(_delete_=True, type='SegFolderDataset', data_root='{data}',
                             img_dir='images/train', mask_dir='masks/train', pipeline=load),
                index=0),
    dataset=dict(_delete_=True, type='SegFolderDataset', data_root='{data}',
                 img_dir='images/val', mask_dir='masks/val',
                 pipeline=load + [dict(type='mmseg.PackSegInputs')])))
"""


def test_painter_semseg_on_own_folder_beats_chance(own_data, tmp_path):
    """docs/own_data.md's two Painter files: the joint toy reduced to semantic segmentation on
    the folder (5-class codec), then the in-context test prompted with the folder's first
    training image and its mask. ``--max-iters 40`` of the toy's 1000 (warm-up 40 -> 2,
    cosine to 40)."""
    chance = majority_miou(osp.join(own_data['plain'], 'masks', 'val'), 5)
    train_config = tmp_path / 'my_painter_train.py'
    train_config.write_text(PAINTER_TRAIN_CONFIG.format(repo=REPO_ROOT, data=own_data['plain']))
    test_config = tmp_path / 'my_painter_test.py'
    test_config.write_text(PAINTER_TEST_CONFIG.format(repo=REPO_ROOT, data=own_data['plain']))
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/train.py', str(train_config), '--work-dir', work_dir, '--max-iters',
              str(PAINTER_ITERS)], timeout=600)
    run_tool(['tools/test.py', str(test_config), osp.join(work_dir, f'iter_{PAINTER_ITERS}.pth'),
              '--work-dir', work_dir], timeout=600)
    miou = latest_metrics(work_dir)['mIoU']
    print(f'Painter own data: mIoU {miou:.1f} vs majority-class chance {chance:.1f}')
    assert miou > 2 * chance


GROUPVIT_CAPTIONS_CONFIG = """\
_base_ = ['{repo}/configs/groupvit/groupvit_toy_shapesworld.py']
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ImageTextListDataset', data_root='{data}', ann_file='captions.csv',
    data_prefix=dict(img_path='images/'),
    pipeline=[
        dict(type='LoadImageFromFile'),  # image files instead of the toy's shards
        dict(type='RandomResize', scale=(64, 64), ratio_range=(1.0, 1.25), keep_ratio=True),
        dict(type='mmseg.RandomCrop', crop_size=(64, 64)),
        dict(type='ExtractNouns', num_nouns=3),
        dict(type='PromptNouns', templates={{{{_base_.prompt_templates}}}}),
        dict(type='TokenizeText', context_length=48, pad_token='zero'),
        dict(type='PackImageTextInputs'),
    ]))
"""

# Results depend on the thread count (float summation order): the GroupViT runs are pinned to
# one thread so that the numbers below are the ones CI sees.
ONE_THREAD = {'OMP_NUM_THREADS': '1'}
# half the toy's 300 iterations (the documented short-run switch scales the schedule with it):
# the suite's time budget
GROUPVIT_ITERS = 150

GROUPVIT_ZERO_SHOT_CONFIG = """\
_base_ = ['{repo}/configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py']
model = dict(class_names=('ball', 'crate', 'pyramid', 'backdrop'), with_bg=None,
             background='backdrop')
test_dataloader = dict(dataset=dict(
    _delete_=True, type='SegFolderDataset', data_root='{data}', img_dir='images/val',
    mask_dir='masks/val', pipeline={{{{_base_.test_pipeline}}}}))
"""


@pytest.fixture(scope='module')
def groupvit_zero_shot(tmp_path_factory) -> dict:
    """Image-caption pairs from a CSV (``ImageTextListDataset``, the shape words renamed:
    ball / crate / pyramid), half the toy's schedule through ``tools/train.py --max-iters 150``; then zero-shot
    segmentation through ``tools/test.py`` with the classes ``ball, crate, pyramid, backdrop``
    (background = ``backdrop``, the last class: sky and ground; star and person unlabelled) on
    a renamed mask folder. Returns the mIoU and the label-only baselines of that folder.

    The data is the toy's: class-coloured ShapesWorld, 1024 scenes of 64 px (with random
    colours the toy's ViT does not learn the shapes, configs/groupvit/README.md).
    """
    from mmgen_vision.datasets import generate_shapesworld
    from mmgen_vision.evaluation.baselines import label_pixel_counts, segmentation_baselines
    tmp_path = tmp_path_factory.mktemp('groupvit_own')
    sw_root = str(tmp_path / 'shapesworld_cc')
    roots = generate_shapesworld(sw_root, num_train=1024, num_val=64, image_size=64, seed=0,
                                 formats=('coco', 'ade'), class_colors=True)
    captions = make_caption_csv(roots['coco'], str(tmp_path / 'captions'))
    seg = make_seg_folder(sw_root, str(tmp_path / 'seg'), classes=BACKDROP_CLASSES,
                          label_map=ADE_TO_BACKDROP, splits=('val', ))

    config = tmp_path / 'my_groupvit.py'
    config.write_text(GROUPVIT_CAPTIONS_CONFIG.format(repo=REPO_ROOT, data=captions))
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/train.py', str(config), '--work-dir', work_dir, '--max-iters',
              str(GROUPVIT_ITERS), '--cfg-options', 'train_dataloader.num_workers=0',
              'train_dataloader.persistent_workers=False'], env=ONE_THREAD, timeout=1200)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    test_config = tmp_path / 'my_groupvit_zero_shot.py'
    test_config.write_text(GROUPVIT_ZERO_SHOT_CONFIG.format(repo=REPO_ROOT, data=seg))
    run_tool(['tools/test.py', str(test_config), checkpoint, '--work-dir', work_dir,
              '--cfg-options', 'test_dataloader.num_workers=0',
              'test_dataloader.persistent_workers=False'], env=ONE_THREAD)
    miou = latest_metrics(work_dir)['mIoU']

    masks = glob.glob(osp.join(seg, 'masks', 'val', '*.png'))
    counts = label_pixel_counts((np.asarray(Image.open(m)) for m in masks),
                                len(BACKDROP_CLASSES))
    base = segmentation_baselines(counts, background_index=BACKDROP_CLASSES.index('backdrop'))
    report = (f'GroupViT own captions, zero-shot (ball, crate, pyramid, backdrop): mIoU '
              f'{miou:.2f} vs uniform chance {base["chance"]:.2f} and all-backdrop '
              f'{base["all_background"]:.2f}')
    print(report)
    return dict(miou=miou, report=report, **base)


def test_groupvit_own_captions_zero_shot_beats_chance(groupvit_zero_shot):
    """Every pixel labelled uniformly at random among the 4 classes."""
    assert groupvit_zero_shot['miou'] >= groupvit_zero_shot['chance'] + MIN_MARGIN, \
        groupvit_zero_shot['report']


@pytest.mark.xfail(
    reason='the toy GroupViT recipe beats all-background only on some seeds (not robust '
    'yet: configs/groupvit/README.md, toy section, diagnosis): 19.77 vs 22.53 at seed 0, '
    '1 thread, 150 iterations (18.02 at 300). Remove this mark once the toy recipe passes '
    'tests/test_tools/test_groupvit_e2e.py on seeds 0-2.',
    strict=True)
def test_groupvit_own_captions_zero_shot_beats_all_background(groupvit_zero_shot):
    """Every pixel labelled ``backdrop`` (the majority class): segments of the user's own
    classes emerge from their own captions."""
    assert groupvit_zero_shot['miou'] >= groupvit_zero_shot['all_background'] + MIN_MARGIN, \
        groupvit_zero_shot['report']
