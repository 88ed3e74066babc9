# Copyright (c) mmgen_vision contributors. All rights reserved.
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT, run_tool, toy_seg_options

CONFIG = osp.join(REPO_ROOT, 'projects/example_project/configs/'
                  'separable-head_r18-d8_1xb8-600it_shapesworld-ade-96x96.py')


def test_custom_imports_register_the_project_head():
    from mmengine.utils import import_modules_from_strings

    from mmgen_vision.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    import_modules_from_strings(**cfg.custom_imports)
    # inside an mmseg model the head is built in the mmseg scope, as the config does
    head = MODELS.build(dict(cfg.model.decode_head, _scope_='mmseg'))
    assert type(head).__name__ == 'SeparableConvHead'
    logits = head([torch.randn(2, 128, 12, 12)] * 4)
    assert logits.shape == (2, 7, 12, 12)
    with pytest.raises(ValueError, match='num_convs'):
        MODELS.build(dict(cfg.model.decode_head, _scope_='mmseg', num_convs=0))


@pytest.mark.slow
def test_project_config_trains_through_tools(shapesworld_root, tmp_path):
    run_tool(['tools/train.py', CONFIG, '--work-dir', str(tmp_path)] + toy_seg_options(
        shapesworld_root, **{'train_cfg.max_iters': 40, 'train_cfg.val_interval': 1000,
                             'default_hooks.logger.interval': 1, 'log_processor.window_size': 1}))
    scalars = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))[0]
    with open(scalars) as f:
        losses = [json.loads(line)['loss'] for line in f if '"loss"' in line]
    assert len(losses) == 40
    # the head learns: mean loss of the last 10 iterations well below the first 5
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:5]) / 5
