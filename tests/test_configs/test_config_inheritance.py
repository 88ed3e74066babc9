# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Configs that do not repeat themselves (issue 17, part 5).

Every ShapesWorld dataset base inherits the base of the real dataset it shrinks (following its
``_base_`` chain) and keeps every key of it; the three Painter restoration evaluations share
one base; the toy Painter states its codecs once (the model's) and its test configs paint with
exactly those; the toy X-Decoder trains on the ShapesWorld joint dataset base and the GLID toys
share one schedule base.
"""
import ast
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO_ROOT

DATASETS = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
PAINTER = osp.join(REPO_ROOT, 'configs', 'painter')

#: ShapesWorld dataset base -> the real dataset base(s) it shrinks
SHAPESWORLD_BASES = {
    'shapesworld_ade.py': 'glid_ade20k_semantic.py',
    'shapesworld_voc.py': 'glid_ade20k_semantic.py',
    'shapesworld_coco_instance.py': 'glid_coco_detection.py',
    'shapesworld_coco_panoptic.py': 'glid_coco_detection.py',
    'shapesworld_coco_keypoints.py': 'glid_coco_keypoints.py',
    'shapesworld_image_text.py': 'cc_image_text.py',
    'shapesworld_refcoco.py': 'xdecoder_refcocog.py',
    'xdecoder_shapesworld_panoptic.py': 'xdecoder_coco_panoptic.py',
    # the panoptic source through xdecoder_shapesworld_panoptic.py; the referring and image-text
    # sources and the loader of the paper's joint data (xdecoder_coco_joint.py lists the same two)
    'xdecoder_shapesworld_joint.py': ('xdecoder_coco_panoptic.py', 'multi_source_joint.py'),
    'xdecoder_shapesworld_refcoco.py': 'xdecoder_refcocog.py',
    'xdecoder_shapesworld_caption.py': 'xdecoder_coco_caption.py',
    'shapesworld_voc_zeroshot.py': 'voc12_zeroshot.py',
}
RESTORATION = ('sidd-denoise', 'rain-derain', 'lol-enhance')


def declared_bases(path: str) -> list:
    """The ``_base_`` list of a config file, read from its source (nothing is executed)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], 'id', None) == '_base_'):
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


def base_chain(path: str) -> list:
    """Every file ``path`` inherits from, nearest first (depth-first over ``_base_``)."""
    chain = []
    for base in declared_bases(path):
        base_path = osp.normpath(osp.join(osp.dirname(path), base))
        chain += [base_path] + base_chain(base_path)
    return chain


@pytest.mark.parametrize('name', sorted(SHAPESWORLD_BASES))
def test_shapesworld_base_inherits_the_real_dataset(name):
    path = osp.join(DATASETS, name)
    reals = SHAPESWORLD_BASES[name]
    reals = (reals, ) if isinstance(reals, str) else reals
    cfg = Config.fromfile(path)
    chain, real_cfgs = base_chain(path), []
    for real in reals:
        assert osp.join(DATASETS, real) in chain, f'{name} does not inherit {real}'
        real_cfgs.append(Config.fromfile(osp.join(DATASETS, real)))
        # the real base's keys all survive; what differs is the data, not the layout
        assert set(real_cfgs[-1].keys()) <= set(cfg.keys())
    real_cfg = real_cfgs[0]
    assert cfg.get('data_root', 'data/shapesworld/').startswith('data/shapesworld/')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if loader in real_cfg:
            dataset = cfg[loader].dataset
            roots = [dataset.get('data_root')] + [
                d.get('data_root') for d in (dataset.get('datasets') or {}).values()]
            assert all(r.startswith('data/shapesworld/') for r in roots if r), (loader, roots)
    if 'val_dataloader' in real_cfg:
        assert cfg.test_dataloader == cfg.val_dataloader


def test_toy_configs_inherit_their_data_and_schedule_bases():
    """The toy X-Decoder trains on the ShapesWorld joint dataset base (not a copy of it); every
    GLID toy takes its schedule from the one toy-schedule base."""
    xdecoder = osp.join(REPO_ROOT, 'configs', 'xdecoder', 'xdecoder_toy_shapesworld-joint.py')
    assert '../_base_/datasets/xdecoder_shapesworld_joint.py' in declared_bases(xdecoder)
    glid = osp.join(REPO_ROOT, 'configs', 'glid')
    toys = glob.glob(osp.join(glid, 'glid_toy_shapesworld-*.py'))
    assert len(toys) == 7
    for toy in toys:
        bases = declared_bases(toy)
        if bases == ['./glid_toy_shapesworld-coco-panoptic.py']:  # the multi-task toy
            bases = declared_bases(osp.join(glid, bases[0]))
        assert './glid_toy_shapesworld_schedule.py' in bases, toy


def test_restoration_evaluations_share_one_base():
    paths = [osp.join(PAINTER, f'painter_vit-large-p16_8tasks_896x448_{task}.py')
             for task in RESTORATION]
    bases = {tuple(declared_bases(path)) for path in paths}
    assert len(bases) == 1 and len(next(iter(bases))) == 1, bases
    (shared, ) = next(iter(bases))
    cfgs = [Config.fromfile(path) for path in paths]
    shared_cfg = Config.fromfile(osp.join(PAINTER, shared))
    for task, cfg in zip(RESTORATION, cfgs):
        dataset = cfg.test_dataloader.dataset
        # what the shared base states holds for every task: codec, data, metric
        assert dataset.codec == shared_cfg.test_dataloader.dataset.codec == dict(
            type='RestorationCodec')
        assert dataset.dataset.pipeline == shared_cfg.test_dataloader.dataset.dataset.pipeline
        assert cfg.test_evaluator.type == 'RestorationMetric'
        assert cfg.test_cfg == dict(type='TestLoop')
        # the task's own parts: its prompt (its training pairs) and its validation pairs
        assert dataset.prompt.dataset == cfg[dataset.task].dataset
        assert dataset.dataset.data_root.endswith('/' + task.split('-')[0])
    assert [cfg.test_evaluator.convert_to for cfg in cfgs] == [None, 'Y', None]


@pytest.mark.parametrize('task', ['semseg', 'depth', 'denoise', 'panoptic'])
def test_toy_painter_tests_paint_with_the_model_codecs(task):
    path = osp.join(PAINTER, f'painter_vit-tiny-p4_toy-shapesworld_{task}.py')
    with open(path, encoding='utf-8') as f:
        assert 'Codec' not in f.read(), f'{path} states a codec again'
    cfg = Config.fromfile(path)
    codecs = cfg.model.codecs
    dataset = cfg.test_dataloader.dataset
    prompts = dataset.get('prompts') or {dataset.task: dataset}
    for name, prompt in prompts.items():
        assert prompt.codec == codecs[name], name
    train = {d.task: d.codec for d in cfg.train_dataloader.dataset.datasets}
    assert train == {name: codecs[name] for name in train}


def test_toy_zero_shot_and_tiny_configs_only_shrink_the_real_ones():
    """The GroupViT toy zero-shot test is the VOC protocol on ShapesWorld; the tiny Peekaboo
    configs are the SD configs with a 64 px centred square (and the tiny guide)."""
    groupvit = osp.join(REPO_ROOT, 'configs', 'groupvit')
    real = Config.fromfile(osp.join(groupvit, 'groupvit_gcc-yfcc_zeroshot_voc.py'))
    toy = Config.fromfile(osp.join(groupvit, 'groupvit_toy_shapesworld-voc-zeroshot.py'))
    assert toy.test_evaluator == real.test_evaluator and toy.test_cfg == real.test_cfg
    assert toy.default_hooks.visualization == real.default_hooks.visualization
    assert toy.visualizer == real.visualizer
    assert toy.test_dataloader.dataset.pipeline == real.test_dataloader.dataset.pipeline
    assert toy.test_dataloader.dataset.data_root.startswith('data/shapesworld/')
    assert toy.train_dataloader is None and toy.val_dataloader is None
    peekaboo = osp.join(REPO_ROOT, 'configs', 'peekaboo')
    for task, sd in (('refcoco', 'refcoco'), ('voc', 'voc12')):
        tiny = Config.fromfile(osp.join(peekaboo, f'peekaboo_tiny-sd_shapesworld-{task}.py'))
        full = Config.fromfile(osp.join(peekaboo, f'peekaboo_sd14-fourier-bilateral_{sd}.py'))
        shrunk = [dict(step, size=64) if step['type'] == 'CenterCropSquare' else step
                  for step in full.test_dataloader.dataset.pipeline]
        assert tiny.test_dataloader.dataset.pipeline == shrunk
        assert tiny.model.image_size == 64 and tiny.model.guide.pretrained_path == 'data/tiny_sd'
        assert tiny.test_evaluator == full.test_evaluator
