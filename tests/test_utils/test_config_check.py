# Copyright (c) mmgen_vision contributors. All rights reserved.
import pytest
from mmengine.config import Config

from mmgen_vision.utils import ConfigKeyError, check_override_keys, check_top_level_keys


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
                              'model.heads.0.a': 2, 'brand_new': 3})
    with pytest.raises(ConfigKeyError, match=r"'model\.bakcbone' does not exist.*'backbone'"):
        check_override_keys(cfg, {'model.bakcbone.depth': 50})
    with pytest.raises(ConfigKeyError, match='index 3 is out of range'):
        check_override_keys(cfg, {'model.heads.3.a': 1})
