# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A child config that sets a base's variable must change what the runner reads (issue 15).

``data_root = 'data/mine'`` at the top of a child config does nothing: the base copied its own
``data_root`` into the dataloaders when it was parsed. ``load_config`` (tools, Inferencers)
refuses such a config, naming the variable and the settings to set instead.
"""
import glob
import os.path as osp

import pytest

from conftest import REPO_ROOT
from mmgen_vision.utils import StaleVariableError, check_variable_overrides, load_config

CONFIGS = sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True))
SEMSEG = osp.join(REPO_ROOT, 'configs', 'glid', 'glid_toy_shapesworld-ade-semseg.py')
DET = osp.join(REPO_ROOT, 'configs', 'glid', 'glid_toy_shapesworld-coco-det.py')


def write_child(tmp_path, base: str, body: str, name: str = 'my_config.py') -> str:
    path = tmp_path / name
    path.write_text(f'_base_ = [{base!r}]\n{body}')
    return str(path)


@pytest.mark.parametrize(
    'body, variable, settings',
    [
        ("data_root = 'data/mine'\n", 'data_root', [
            'train_dataloader.dataset.data_root', 'val_dataloader.dataset.data_root',
            'test_dataloader.dataset.data_root'
        ]),
        ('num_classes = 3\n', 'num_classes', ['model.seg_head.num_classes']),
        ("train_pipeline = [dict(type='LoadImageFromFile')]\n", 'train_pipeline',
         ['train_dataloader.dataset.pipeline']),
        # half done: the training data moved, the validation data did not
        ("data_root = 'data/mine'\ntrain_dataloader = dict(dataset=dict(data_root=data_root))\n",
         'data_root', ['val_dataloader.dataset.data_root']),
    ],
    ids=['data_root', 'num_classes', 'train_pipeline', 'data_root-half'])
def test_a_variable_that_reaches_nothing_is_refused(tmp_path, body, variable, settings):
    child = write_child(tmp_path, SEMSEG, body)
    with pytest.raises(StaleVariableError) as info:
        load_config(child)
    message = str(info.value)
    assert message.startswith(f"'{variable}' was set to ")
    assert 'my_config.py' in message and 'glid_toy_shapesworld-ade-semseg.py' in message
    for setting in settings:
        assert setting in message
    if body.count('\n') > 1:  # the setting the child did set is not blamed
        assert 'train_dataloader.dataset.data_root' not in message
    assert 'Set those keys in my_config.py' in message


def test_classes_and_a_path_built_from_data_root_are_found(tmp_path):
    # the detection config builds val_evaluator.ann_file as data_root + 'annotations/...'
    body = ("data_root = 'data/mine/'\n"
            'train_dataloader = dict(dataset=dict(data_root=data_root))\n'
            'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
            'test_dataloader = val_dataloader\n')
    with pytest.raises(StaleVariableError, match=r'val_evaluator\.ann_file \(= '
                       r"'data/shapesworld/coco/annotations/instances_val2017\.json'\)"):
        check_variable_overrides(write_child(tmp_path, DET, body))
    # a class tuple is found wherever the base put it (the datasets' metainfo)
    with pytest.raises(StaleVariableError, match=r"'classes' .*train_dataloader\.dataset\."
                       r'metainfo\.classes'):
        check_variable_overrides(write_child(tmp_path, DET, "classes = ('a', 'b')\n", 'c.py'))


def test_overrides_that_reach_the_settings_pass(tmp_path):
    body = ("data_root = 'data/mine'\n"
            'num_classes = 3\n'
            "train_pipeline = [dict(type='LoadImageFromFile')]\n"
            'train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))\n'
            'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
            'test_dataloader = val_dataloader\n'
            'model = dict(seg_head=dict(num_classes=num_classes))\n'
            '_helper = 7\n')  # a variable of the child's own: nothing to compare
    cfg = load_config(write_child(tmp_path, SEMSEG, body))
    assert cfg.test_dataloader.dataset.data_root == 'data/mine'
    assert cfg.model.seg_head.num_classes == 3
    # a grandchild is checked against its own base (the child above) and the whole chain
    grandchild = write_child(tmp_path, str(tmp_path / 'my_config.py'), 'num_classes = 4\n',
                             'grandchild.py')
    with pytest.raises(StaleVariableError, match=r"'num_classes' was set to 4 in .*grandchild"
                       r'\.py, but model\.seg_head\.num_classes still holds 3, its value in '
                       r'.*my_config\.py'):
        load_config(grandchild)


def test_a_number_is_only_matched_under_its_own_name(tmp_path):
    # the base's 7 classes and another 7 elsewhere (say, a kernel size) are not the same thing:
    # only `num_classes` keys count, so the unrelated 7 does not trip the check
    base = tmp_path / 'base.py'
    base.write_text('num_classes = 7\n'
                    'model = dict(head=dict(num_classes=num_classes), neck=dict(kernel=7))\n')
    child = write_child(tmp_path, str(base),
                        'num_classes = 3\nmodel = dict(head=dict(num_classes=num_classes))\n')
    check_variable_overrides(child)


def test_a_schedule_length_is_found_where_the_schedulers_use_it(tmp_path):
    # the 160k GLID configs once set `max_iters = 160000` over a 40k schedule base: the poly
    # decay kept `end=40000` and the last 120k iterations ran at learning rate 0
    base = tmp_path / 'schedule.py'
    base.write_text(
        'max_iters = 400\nwarmup_iters = 50\n'
        "param_scheduler = [dict(type='LinearLR', begin=0, end=warmup_iters),\n"
        "                   dict(type='PolyLR', begin=warmup_iters, end=max_iters)]\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)\n"
        'model = dict(head=dict(end=400))\n')  # `end` outside a scheduler is matched too
    child = write_child(tmp_path, str(base),
                        'max_iters = 1600\ntrain_cfg = dict(max_iters=max_iters)\n')
    with pytest.raises(StaleVariableError, match=r"'max_iters' was set to 1600 .*but "
                       r'model\.head\.end, param_scheduler\.1\.end still hold 400'):
        check_variable_overrides(child)
    child = write_child(tmp_path, str(base), 'warmup_iters = 10\n', 'warmup.py')
    with pytest.raises(StaleVariableError, match=r'param_scheduler\.0\.end, '
                       r'param_scheduler\.1\.begin still hold 50'):
        check_variable_overrides(child)
    restated = ('max_iters = 1600\ntrain_cfg = dict(max_iters=max_iters)\n'
                "param_scheduler = [dict(type='LinearLR', begin=0, end=50),\n"
                "                   dict(type='PolyLR', begin=50, end=max_iters)]\n"
                'model = dict(head=dict(end=1600))\n')
    check_variable_overrides(write_child(tmp_path, str(base), restated, 'restated.py'))


def test_glid_paper_schedulers_end_with_training():
    for name in ('glid_swin-b_8xb2-160k_ade20k-512x512-semseg_dec3.py',
                 'glid_swin-b_8xb2-160k_ade20k-640x640-multitask.py',
                 'glid_swin-b_8xb8-40k_nyu-depth.py'):
        cfg = load_config(osp.join(REPO_ROOT, 'configs', 'glid', name))
        warmup, decay = cfg.param_scheduler
        assert decay.end == cfg.train_cfg.max_iters, name
        assert warmup.end == decay.begin, name
    assert cfg.param_scheduler[0].end == 1000  # the depth recipe's own warm-up


@pytest.mark.parametrize('config', CONFIGS)
def test_every_shipped_config_loads(config):
    cfg = load_config(osp.join(REPO_ROOT, config))
    assert cfg.filename.endswith(config)
