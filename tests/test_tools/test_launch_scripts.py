# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/dist_*.sh and tools/slurm_*.sh run in the project's environment without activating it.

Each script is copied into a throw-away repository whose ``.venv/bin/python`` (and ``srun``) are
stubs that record how they were called, and run with a PATH that holds no Python at all: the
old scripts called ``python`` from PATH, which fails there (and, on a machine with a system
Python, fails later with "No module named torch").
"""
import os
import os.path as osp
import shutil
import stat
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = ('python_env.sh', 'dist_train.sh', 'dist_test.sh', 'slurm_train.sh', 'slurm_test.sh')
BASH = shutil.which('bash')

pytestmark = pytest.mark.skipif(BASH is None or shutil.which('dirname') is None,
                                reason='needs bash and dirname')


def _write_stub(path, name):
    """An executable that writes its name and arguments, one per line, to $RECORD."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'#!/bin/sh\nprintf "%s\\n" "{name}" "$@" > "$RECORD"\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def fake_repo(tmp_path):
    """A repository with the launch scripts, a stub ``.venv/bin/python`` and a PATH folder that
    has bash and dirname but no python."""
    repo = tmp_path / 'repo'
    (repo / 'tools').mkdir(parents=True)
    for name in SCRIPTS:
        shutil.copy(osp.join(REPO, 'tools', name), repo / 'tools' / name)
    _write_stub(str(repo / '.venv' / 'bin' / 'python'), 'repo-venv-python')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for tool in ('bash', 'dirname'):
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'MMGV_VENV', 'PYTHONPATH')}
    env.update(PATH=str(bin_dir), RECORD=str(tmp_path / 'record.txt'))
    return repo, bin_dir, env, tmp_path / 'record.txt'


def _run(script, args, env, cwd=None):
    return subprocess.run([BASH, str(script), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_dist_train_uses_the_repository_venv(fake_repo):
    repo, _, env, record = fake_repo
    proc = _run(repo / 'tools' / 'dist_train.sh',
                ['cfg.py', '2', '--work-dir', 'a dir with spaces', '--amp'], env)
    assert proc.returncode == 0, proc.stderr
    argv = record.read_text().splitlines()
    assert argv[0] == 'repo-venv-python'
    assert argv[1:3] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in argv
    i = argv.index(str(repo / 'tools' / 'train.py'))
    assert argv[i + 1:] == ['cfg.py', '--launcher', 'pytorch', '--work-dir', 'a dir with spaces',
                            '--amp']


def test_dist_test_uses_the_repository_venv_from_any_directory(fake_repo, tmp_path):
    repo, _, env, record = fake_repo
    # run from inside tools/ with a relative script path
    proc = _run('dist_test.sh', ['cfg.py', 'ckpt.pth', '4', '--show-dir', 'vis'], env,
                cwd=repo / 'tools')
    assert proc.returncode == 0, proc.stderr
    argv = record.read_text().splitlines()
    assert argv[0] == 'repo-venv-python'
    i = argv.index(str(repo / 'tools' / 'test.py'))
    assert argv[i + 1:] == ['cfg.py', 'ckpt.pth', '--launcher', 'pytorch', '--show-dir', 'vis']


def test_precedence_mmgv_venv_repo_venv_python(fake_repo, tmp_path):
    repo, _, env, record = fake_repo
    _write_stub(str(tmp_path / 'elsewhere' / 'bin' / 'python'), 'mmgv-venv-python')
    _write_stub(str(tmp_path / 'explicit'), 'explicit-python')
    script = repo / 'tools' / 'dist_train.sh'

    # MMGV_VENV first
    proc = _run(script, ['cfg.py', '1'], dict(env, MMGV_VENV=str(tmp_path / 'elsewhere'),
                                             PYTHON=str(tmp_path / 'explicit')))
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().splitlines()[0] == 'mmgv-venv-python'

    # then the repository's .venv, even with PYTHON exported (setup_env.sh reads PYTHON as the
    # interpreter that creates the venv, e.g. a system python3.11 without torch)
    proc = _run(script, ['cfg.py', '1'], dict(env, PYTHON=str(tmp_path / 'explicit')))
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().splitlines()[0] == 'repo-venv-python'

    # then PYTHON, when there is no project environment
    shutil.rmtree(repo / '.venv')
    proc = _run(script, ['cfg.py', '1'], dict(env, PYTHON=str(tmp_path / 'explicit')))
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().splitlines()[0] == 'explicit-python'

    # an MMGV_VENV without an interpreter is an error, not a silent fall-back
    proc = _run(script, ['cfg.py', '1'], dict(env, MMGV_VENV=str(tmp_path / 'missing')))
    assert proc.returncode != 0
    assert 'has no bin/python' in proc.stderr


def test_falls_back_to_python_on_path_then_fails_clearly(fake_repo):
    repo, bin_dir, env, record = fake_repo
    shutil.rmtree(repo / '.venv')
    proc = _run(repo / 'tools' / 'dist_train.sh', ['cfg.py', '1'], env)
    assert proc.returncode != 0
    assert 'no Python interpreter' in proc.stderr and 'make setup' in proc.stderr
    assert not record.exists()

    _write_stub(str(bin_dir / 'python'), 'path-python')
    proc = _run(repo / 'tools' / 'dist_train.sh', ['cfg.py', '1'], env)
    assert proc.returncode == 0, proc.stderr
    assert record.read_text().splitlines()[0] == 'path-python'


@pytest.mark.parametrize('script,args,tool,tail', [
    ('slurm_train.sh', ['part', 'job', 'cfg.py', 'wd', '--amp'], 'train.py',
     ['cfg.py', '--work-dir=wd', '--launcher=slurm', '--amp']),
    ('slurm_test.sh', ['part', 'job', 'cfg.py', 'ckpt.pth', '--show-dir', 'vis'], 'test.py',
     ['cfg.py', 'ckpt.pth', '--launcher=slurm', '--show-dir', 'vis']),
])
def test_slurm_scripts_hand_the_venv_python_to_srun(fake_repo, script, args, tool, tail):
    repo, bin_dir, env, record = fake_repo
    _write_stub(str(bin_dir / 'srun'), 'srun')
    proc = _run(repo / 'tools' / script, args, dict(env, GPUS='2', GPUS_PER_NODE='2'))
    assert proc.returncode == 0, proc.stderr
    argv = record.read_text().splitlines()
    assert argv[0] == 'srun'
    i = argv.index(str(repo / '.venv' / 'bin' / 'python'))
    assert argv[i + 1:i + 3] == ['-u', str(repo / 'tools' / tool)]
    assert argv[i + 3:] == tail


def test_python_env_prints_the_project_interpreter():
    """In this checkout the resolved interpreter is the project's own environment."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'MMGV_VENV')}
    out = subprocess.run([BASH, osp.join(REPO, 'tools', 'python_env.sh')], env=env,
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    if osp.exists(osp.join(REPO, '.venv', 'bin', 'python')):
        assert out.stdout.strip() == osp.join(REPO, '.venv', 'bin', 'python')
    else:
        assert out.stdout.strip() in ('python', 'python3')
