# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/train.py and tools/test.py refuse switches that would silently do nothing (issue 13,
part 5). Every check here fails before a runner is built, so the tests are fast."""
import importlib.util
import os.path as osp

import pytest

from conftest import REPO_ROOT, TOY_SEG_CONFIG, run_tool
from mmgen_vision.utils import ConfigKeyError, register_all_modules

PEEKABOO_CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py')


def _load_tool(relative_path: str):
    path = osp.join(REPO_ROOT, relative_path)
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def test_tool():
    register_all_modules(init_default_scope=False)
    return _load_tool('tools/test.py')


@pytest.fixture(scope='module')
def train_tool():
    register_all_modules(init_default_scope=False)
    return _load_tool('tools/train.py')


@pytest.fixture(autouse=True)
def local_rank(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')  # parse_args sets it when missing


def test_checkpoint_none_is_refused_for_a_trained_model(tmp_path):
    """``tools/test.py <FCN config> none`` used to evaluate random weights without a word."""
    proc = run_tool(['tools/test.py', TOY_SEG_CONFIG, 'none', '--work-dir', str(tmp_path)],
                    check=False, timeout=300)
    assert proc.returncode != 0
    assert 'training-free' in proc.stderr and 'EncoderDecoder' in proc.stderr, proc.stderr[-3000:]
    assert 'random weights' in proc.stderr
    assert 'Traceback' not in proc.stderr  # a plain error, not a crash
    assert not osp.exists(osp.join(str(tmp_path), 'last_checkpoint'))


def test_checkpoint_none_is_accepted_for_a_training_free_model(test_tool, tmp_path):
    args = test_tool.parse_args([PEEKABOO_CONFIG, 'none', '--work-dir', str(tmp_path)])
    cfg = test_tool.build_cfg(args)
    assert cfg.load_from is None
    args = test_tool.parse_args([TOY_SEG_CONFIG, 'None', '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match=r"checkpoint 'None' is only for training-free models"):
        test_tool.build_cfg(args)


def test_out_must_be_a_pickle_file(test_tool, capsys):
    with pytest.raises(SystemExit) as info:
        test_tool.parse_args([TOY_SEG_CONFIG, 'ckpt.pth', '--out', 'preds.json'])
    assert info.value.code == 2  # an argparse usage error, not a traceback
    err = capsys.readouterr().err
    assert '--out must name a pickle file ending with .pkl or .pickle' in err
    assert 'preds.json' in err
    for name in ('preds.pkl', 'preds.pickle'):
        assert test_tool.parse_args([TOY_SEG_CONFIG, 'ckpt.pth', '--out', name]).out == name


@pytest.mark.parametrize('option, needles', [
    ('model.test_cfg.mdoe=slide', ("'model.test_cfg.mdoe'", "did you mean 'mode'")),
    ('max_iters=5', ("'max_iters' is a variable", "'train_cfg.max_iters'")),
    ('trian_cfg.max_iters=5', ("did you mean 'train_cfg.max_iters'", )),
])
def test_overrides_that_would_do_nothing_are_refused(train_tool, test_tool, tmp_path, option,
                                                     needles):
    for tool, extra in ((train_tool, []), (test_tool, ['ckpt.pth'])):
        args = tool.parse_args([TOY_SEG_CONFIG] + extra +
                               ['--work-dir', str(tmp_path), '--cfg-options', option])
        with pytest.raises(ConfigKeyError) as info:
            tool.build_cfg(args)
        for needle in needles:
            assert needle in str(info.value)


def test_documented_overrides_reach_the_config(train_tool, tmp_path):
    args = train_tool.parse_args([
        TOY_SEG_CONFIG, '--work-dir', str(tmp_path), '--cfg-options',
        'train_dataloader.batch_size=4', 'optim_wrapper.optimizer.lr=1e-3',
        'model.backbone.depth=50', 'train_cfg.max_iters=30', 'default_hooks.checkpoint.interval=1',
        'randomness.seed=1', 'model.test_cfg.mode=slide',
        'model.backbone.init_cfg.type=Pretrained', 'model.backbone.init_cfg.checkpoint=x.pth'
    ])
    cfg = train_tool.build_cfg(args)
    assert cfg.train_dataloader.batch_size == 4 and cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.model.backbone.depth == 50 and cfg.train_cfg.max_iters == 30
    assert cfg.default_hooks.checkpoint.interval == 1 and cfg.randomness.seed == 1
    assert cfg.model.test_cfg.mode == 'slide'
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='x.pth')
