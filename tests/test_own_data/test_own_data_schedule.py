# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Short runs shorten the whole schedule (issue 15): ``tools/train.py --max-iters N`` rescales
``train_cfg.max_iters`` and every scheduler together, and an override of
``train_cfg.max_iters`` alone warns that the schedulers end later."""
import glob
import importlib.util
import json
import os.path as osp

import pytest
from mmengine.config import Config

from conftest import REPO_ROOT, TOY_SEG_CONFIG, run_tool, toy_seg_options
from mmgen_vision.utils import register_all_modules
from mmgen_vision.utils.schedule import ScheduleScaleError, scale_schedule, unscaled_schedulers

GLID_SEG = osp.join(REPO_ROOT, 'configs/glid/glid_toy_shapesworld-ade-semseg.py')
GLID_PRETRAIN = osp.join(REPO_ROOT, 'configs/glid/glid_toy_shapesworld-pretrain.py')
XDECODER_JOINT = osp.join(REPO_ROOT, 'configs/xdecoder/xdecoder_toy_shapesworld-joint.py')


@pytest.fixture(scope='module')
def train_tool():
    register_all_modules(init_default_scope=False)
    path = osp.join(REPO_ROOT, 'tools/train.py')
    spec = importlib.util.spec_from_file_location('train_tool_own_data', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def local_rank(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')


def test_max_iters_rescales_every_scheduler_of_a_toy_config(train_tool, tmp_path):
    # GLID toy: LinearLR 0-15, PolyLR 15-150, val never, checkpoint at the end
    args = train_tool.parse_args([GLID_SEG, '--max-iters', '30', '--work-dir', str(tmp_path)])
    cfg = train_tool.build_cfg(args)
    assert cfg.train_cfg.max_iters == 30
    warmup, poly = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 3)
    assert (poly.begin, poly.end) == (3, 30)
    assert cfg.train_cfg.val_interval > 30  # still "no validation during training"
    assert cfg.default_hooks.checkpoint.interval == 30
    assert unscaled_schedulers(cfg) is None


def test_cosine_t_max_and_multistep_milestones_scale_too():
    cfg = Config.fromfile(GLID_PRETRAIN)  # LinearLR 0-20, cosine T_max=180 over 20-200
    changes = scale_schedule(cfg, 50)
    cosine = cfg.param_scheduler[1]
    assert (cosine.begin, cosine.end, cosine.T_max) == (5, 50, 45)
    assert 'param_scheduler.1.T_max: 180 -> 45' in changes
    cfg = Config.fromfile(XDECODER_JOINT)  # milestones at 89 % and 96 % of 300
    scale_schedule(cfg, 30)
    warmup, multistep = cfg.param_scheduler
    assert warmup.end == 2 and multistep.end == 30 and multistep.milestones == [27, 29]


def test_lengthening_works_and_epoch_schedules_are_refused():
    cfg = Config.fromfile(GLID_SEG)
    scale_schedule(cfg, 300)
    assert cfg.param_scheduler[1].end == 300 and cfg.param_scheduler[0].end == 30
    epoch_cfg = Config(dict(train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3),
                            param_scheduler=[dict(type='LinearLR', by_epoch=True, end=1)]))
    with pytest.raises(ScheduleScaleError, match='train_cfg.max_epochs'):
        scale_schedule(epoch_cfg, 10)
    mixed = Config(dict(train_cfg=dict(max_iters=100),
                        param_scheduler=[dict(type='LinearLR', by_epoch=True, end=1)]))
    with pytest.raises(ScheduleScaleError, match='by_epoch=True'):
        scale_schedule(mixed, 10)
    with pytest.raises(ScheduleScaleError, match='positive'):
        scale_schedule(Config.fromfile(GLID_SEG), 0)


def test_overriding_max_iters_alone_names_the_switch(train_tool, tmp_path):
    args = train_tool.parse_args([GLID_SEG, '--work-dir', str(tmp_path), '--cfg-options',
                                  'train_cfg.max_iters=30'])
    cfg = train_tool.build_cfg(args)
    message = unscaled_schedulers(cfg)
    assert message is not None and 'PolyLR (end=150)' in message and '--max-iters' in message


@pytest.mark.slow
def test_short_run_ends_its_schedule(shapesworld_root, tmp_path):
    """A 6-iteration run of the 600-iteration FCN toy config decays its poly LR to ~0."""
    proc = run_tool(['tools/train.py', TOY_SEG_CONFIG, '--work-dir', str(tmp_path),
                     '--max-iters', '6'] +
                    toy_seg_options(shapesworld_root, **{'default_hooks.logger.interval': 1}))
    assert '--max-iters: param_scheduler.1.end: 600 -> 6' in proc.stdout + proc.stderr
    rows = []
    for path in glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    lrs = {row['step']: row['lr'] for row in rows if 'lr' in row}
    assert max(lrs) == 6
    # warm-up 50 -> 0 (begin) .. 1 iteration, then poly decay to 0 at iteration 6
    assert lrs[6] < 0.25 * max(lrs.values())
    assert osp.exists(osp.join(str(tmp_path), 'iter_6.pth'))
