# Copyright (c) mmgen_vision contributors. All rights reserved.
import os.path as osp

import pytest
from mmengine.config import Config

from mmgen_vision.utils import (ConfigKeyError, check_override_keys, check_top_level_keys,
                                load_config, register_all_modules)

TOY_SEG_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py')


def _cfg() -> Config:
    return Config(dict(model=dict(backbone=dict(depth=18), heads=[dict(a=1)]),
                       train_cfg=dict(max_iters=10), data_root='data/x', crop_size=(8, 8)))


def test_misspelt_top_level_key_is_named_with_a_suggestion():
    cfg = _cfg()
    cfg['train_pipeline'] = []  # conventional variables, even if close to 'tta_pipeline'
    cfg['_tran_cfg'] = 1  # own variables may opt out with a leading underscore
    check_top_level_keys(cfg)  # helper variables (data_root, crop_size) are fine
    cfg['trian_cfg'] = dict(max_iters=5)
    with pytest.raises(ConfigKeyError, match=r"'trian_cfg' in my\.py \(did you mean 'train_cfg'"):
        check_top_level_keys(cfg, 'my.py')


def test_override_with_missing_parent_is_refused():
    cfg = _cfg()
    check_override_keys(cfg, {'model.backbone.depth': 50, 'model.backbone.new_key': 1,
                              'model.heads.0.a': 2})
    with pytest.raises(ConfigKeyError, match=r"'model\.bakcbone' does not exist.*'backbone'"):
        check_override_keys(cfg, {'model.bakcbone.depth': 50})
    with pytest.raises(ConfigKeyError, match='index 3 is out of range'):
        check_override_keys(cfg, {'model.heads.3.a': 1})
    with pytest.raises(ConfigKeyError, match=r"'model\.backbone\.depth' is 18 \(int\), not a dict"):
        check_override_keys(cfg, {'model.backbone.depth.x': 1})


# ----------------------------------------------------------------------------- issue 13, part 5
def test_misspelt_leaf_is_refused_with_a_suggestion():
    cfg = _cfg()
    cfg.model['test_cfg'] = dict(mode='whole')
    with pytest.raises(ConfigKeyError,
                       match=r"'model\.test_cfg\.mdoe' does not exist.*did you mean 'mode'"):
        check_override_keys(cfg, {'model.test_cfg.mdoe': 'slide'})
    with pytest.raises(ConfigKeyError, match=r"'train_cfg\.max_iter' .*did you mean 'max_iters'"):
        check_override_keys(cfg, {'train_cfg.max_iter': 5})
    check_override_keys(cfg, {'model.test_cfg.mode': 'slide', 'model.test_cfg.stride': 8})


def test_top_level_keys_nothing_reads_are_refused():
    cfg = _cfg()
    cfg['max_iters'] = 10  # a variable: already copied into train_cfg when the file was parsed
    with pytest.raises(ConfigKeyError,
                       match=r"'max_iters' is a variable.*change nothing.*'train_cfg\.max_iters'"):
        check_override_keys(cfg, {'max_iters': 5})
    with pytest.raises(ConfigKeyError, match=r"'brand_new' is not a key.*change nothing"):
        check_override_keys(cfg, {'brand_new': 3})
    with pytest.raises(ConfigKeyError, match=r"did you mean 'train_cfg\.max_iters'"):
        check_override_keys(cfg, {'trian_cfg.max_iters': 5})
    # the tool may name top-level keys of its own
    check_override_keys(cfg, {'brand_new': 3}, extra_keys=('brand_new', ))
    # runner keys may be created, as leaves or as dicts, also where the config holds None
    cfg['val_cfg'] = None
    check_override_keys(cfg, {'work_dir': 'w', 'randomness.seed': 1, 'env_cfg.cudnn_benchmark': 1,
                              'val_cfg.type': 'ValLoop'})


def test_variable_holding_a_dict_points_to_where_it_went(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("data_root = 'data/x/'\n"
                    "train_pipeline = [dict(type='LoadImageFromFile')]\n"
                    'train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root, '
                    'pipeline=train_pipeline))\n')
    with pytest.raises(ConfigKeyError, match=r"'train_dataloader\.dataset\.data_root'"):
        load_config(str(path), {'data_root': 'data/y/'})
    with pytest.raises(ConfigKeyError,
                       match=r"'train_dataloader\.dataset\.pipeline\.0\.type'"):
        load_config(str(path), {'train_pipeline.0.type': 'LoadImageFromNDArray'})


@pytest.fixture(scope='module')
def toy_seg_config() -> str:
    register_all_modules(init_default_scope=False)
    return TOY_SEG_CONFIG


def test_documented_overrides_of_a_real_config_still_work(toy_seg_config):
    cfg = load_config(toy_seg_config, {
        'train_dataloader.batch_size': 4,
        'optim_wrapper.optimizer.lr': 1e-3,
        'model.backbone.depth': 50,
        'train_cfg.max_iters': 30,
        'default_hooks.checkpoint.interval': 1,
        'randomness.seed': 1,
        'work_dir': 'work_dirs/x',
        'model.test_cfg.mode': 'slide',
        'model.test_cfg.crop_size': (64, 64),
        'param_scheduler.1.end': 30,
        'optim_wrapper.clip_grad.max_norm': 1.0,
        'optim_wrapper.paramwise_cfg.norm_decay_mult': 0.0,
        'train_dataloader.num_workers': 0,
        'val_cfg': None,
    })
    assert cfg.train_dataloader.batch_size == 4 and cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.model.backbone.depth == 50 and cfg.train_cfg.max_iters == 30
    assert cfg.default_hooks.checkpoint.interval == 1 and cfg.randomness.seed == 1
    assert cfg.model.test_cfg.mode == 'slide' and cfg.param_scheduler[1].end == 30
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0 and cfg.val_cfg is None


def test_new_sub_dict_for_an_argument_of_the_registered_module(toy_seg_config, tmp_path):
    # ResNetV1c (mmseg, via the model's _scope_) takes init_cfg through BaseModule
    cfg = load_config(toy_seg_config, {'model.backbone.init_cfg.type': 'Pretrained',
                                       'model.backbone.init_cfg.checkpoint': 'x.pth'})
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='x.pth')
    # where the config holds None, a dict may replace it
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{toy_seg_config}']\n"
                     'model = dict(backbone=dict(init_cfg=None))\n')
    cfg = load_config(str(child), {'model.backbone.init_cfg.type': 'Pretrained'})
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained')
    # a sub-dict the module does not take, or a misspelt one, is refused
    with pytest.raises(ConfigKeyError, match=r"'model\.backbone\.foo' does not exist.*ResNetV1c"
                       r".*takes no argument 'foo'"):
        load_config(toy_seg_config, {'model.backbone.foo.bar': 1})
    with pytest.raises(ConfigKeyError, match=r"did you mean 'init_cfg'"):
        load_config(toy_seg_config, {'model.backbone.init_cgf.type': 'Pretrained'})
    with pytest.raises(ConfigKeyError, match=r"'model\.test_cfg\.mdoe'.*did you mean 'mode'"):
        load_config(toy_seg_config, {'model.test_cfg.mdoe': 'slide'})
    with pytest.raises(ConfigKeyError, match=r"'max_iters' is a variable.*'train_cfg\.max_iters'"):
        load_config(toy_seg_config, {'max_iters': 5})
