# Copyright (c) mmgen_vision contributors. All rights reserved.
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_SEG_CONFIG = osp.join(REPO_ROOT,
                          'configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py')


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO_ROOT


@pytest.fixture(scope='session')
def shapesworld_root(tmp_path_factory) -> str:
    """The default-size ShapesWorld (all formats), generated once per test session."""
    from mmgen_vision.datasets import generate_shapesworld
    root = str(tmp_path_factory.mktemp('shapesworld'))
    generate_shapesworld(root, num_train=64, num_val=16, image_size=96, seed=0)
    return root


def load_script(path: str, name: str):
    """Import a repository script (``tools/...py``, ``demo/...py``) as a module named ``name``,
    to test its functions in-process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(args, cwd=REPO_ROOT, env=None, timeout=900, check=True) -> subprocess.CompletedProcess:
    """Run a repo tool (a python script path or a shell script) as a user would.

    Returns the completed process (stdout and stderr captured as text). With ``check``, a
    non-zero exit fails the test and shows the tail of both streams.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault('PYTHONUNBUFFERED', '1')
    cmd = list(args)
    if cmd[0].endswith('.py'):
        cmd = [sys.executable] + cmd
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} exited {proc.returncode}\n--- stdout\n'
                    f'{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}')
    return proc


def latest_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (``<ts>/<ts>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    assert files, f'no metrics json in {work_dir}'
    with open(files[-1]) as f:
        return json.load(f)


def toy_seg_options(shapesworld_root: str, **extra) -> list:
    """``--cfg-options`` pointing the toy segmentation config at a generated ShapesWorld."""
    data_root = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
    }
    options.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


@pytest.fixture(scope='session')
def trained(shapesworld_root, tmp_path_factory):
    """One training run of the toy segmentation config as shipped (600 iterations, ~1 min on
    2 cores), shared by every test that needs a trained checkpoint."""
    work_dir = str(tmp_path_factory.mktemp('toy_seg'))
    run_tool(['tools/train.py', TOY_SEG_CONFIG, '--work-dir', work_dir] +
             toy_seg_options(shapesworld_root))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    return dict(work_dir=work_dir, checkpoint=checkpoint)
