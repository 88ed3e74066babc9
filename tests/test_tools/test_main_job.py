# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/misc/main_job.py without training: the job table, MMEngine log parsing for the progress
bars, phases run with their output in a log, thresholds, and the exit status of a job that
misses its threshold (the phases replaced by a stand-in that writes what the tools write)."""
import json
import os
import os.path as osp
import sys

import pytest

from conftest import REPO_ROOT, load_script

MAIN_JOB = osp.join(REPO_ROOT, 'tools', 'misc', 'main_job.py')


@pytest.fixture(scope='module')
def main_job():
    return load_script(MAIN_JOB, 'main_job_under_test')


def test_job_table(main_job):
    from mmengine.config import Config
    assert main_job.DEFAULT_JOB == 'painter'
    assert main_job.ALL_JOBS == ('painter', 'xdecoder', 'glid', 'peekaboo', 'groupvit')
    assert 'shapesworld-seg' in main_job.JOBS and 'shapesworld-seg' not in main_job.ALL_JOBS
    gallery = _gallery_module()
    for name, job in main_job.JOBS.items():
        for key in ('config', 'test_config'):
            if key in job:
                Config.fromfile(osp.join(REPO_ROOT, job[key]))  # exists and parses
        assert job['gallery'] in gallery.COLLECTORS, name
        assert callable(job['baselines']), name
        threshold = job['threshold']
        assert threshold is not None and threshold.margin > 0, name
    # the learned guide is shipped: the Peekaboo job runs on it, with an accuracy bar
    peekaboo = main_job.JOBS['peekaboo']
    guide = Config.fromfile(osp.join(REPO_ROOT, peekaboo['config'])).model.guide.pretrained_path
    assert osp.isfile(osp.join(REPO_ROOT, guide, 'SHA256SUMS')), guide
    assert peekaboo['threshold'].over == ('whole_image', ) and peekaboo['metric'] == 'mIoU'


def _gallery_module():
    return load_script(osp.join(REPO_ROOT, 'tools', 'misc', 'gallery.py'), 'gallery_for_main_job')


@pytest.mark.parametrize('line, expected', [
    ('12/05 08:00:00 - mmengine - INFO - Iter(train) [ 25/300]  base_lr: 1.0e-03 lr: 1.0e-03  '
     'eta: 0:01:23  time: 0.3010  data_time: 0.0100  memory: 0  loss: 1.2345  loss_cls: 0.5',
     dict(iter=25, total=300, loss=1.2345, eta='0:01:23')),
    ('12/05 08:00:00 - mmengine - INFO - Iter(test) [ 4/16]    eta: 0:00:05  time: 0.5  '
     'data_time: 0.01', dict(iter=4, total=16, loss=None, eta='0:00:05')),
    ('12/05 08:00:00 - mmengine - INFO - Epoch(train)  [3][ 10/120]  lr: 1e-3  eta: '
     '1 day, 2:03:04  loss: 3.5e-02', dict(iter=10, total=120, loss=0.035,
                                           eta='1 day, 2:03:04')),
    ('12/05 08:00:00 - mmengine - INFO - Iter(train) [300/300]  loss: nan',
     dict(iter=300, total=300, loss=float('nan'), eta=None)),
])
def test_parse_progress(main_job, line, expected):
    info = main_job.parse_progress(line)
    loss, expected_loss = info.pop('loss'), expected.pop('loss')
    assert info == expected
    if expected_loss is None:
        assert loss is None
    else:
        assert loss == pytest.approx(expected_loss, nan_ok=True)


@pytest.mark.parametrize('line', [
    'Checkpoints will be saved to /tmp/x', '12/05 - mmengine - INFO - Saving checkpoint at 300',
    '12/05 - mmengine - INFO - Iter(test) [16/16]    mIoU: 30.0  data_time: 0.1'])
def test_parse_progress_ignores_other_lines(main_job, line):
    info = main_job.parse_progress(line)
    # the final test line carries the counts but no loss: still a progress line
    assert info is None or (info['iter'], info['total'], info['loss']) == (16, 16, None)


def test_threshold_and_verdict(main_job):
    threshold = main_job.Threshold(('chance', 'majority'), 5.)
    assert threshold.describe('mIoU') == 'mIoU >= max(chance, majority) + 5'
    assert main_job.Threshold(('chance', ), 10.).describe('mIoU') == 'mIoU >= chance + 10'
    job = dict(metric='mIoU', threshold=threshold)
    base = dict(chance=5., majority=7.)
    passed = main_job.verdict(job, dict(mIoU=12.), base)
    assert passed['bar'] == 12. and passed['passed']
    assert not main_job.verdict(job, dict(mIoU=11.99), base)['passed']
    free = main_job.verdict(dict(metric='cIoU', threshold=None), dict(cIoU=3.), base)
    assert free['passed'] and free['threshold'] is None
    with pytest.raises(KeyError, match='mIoU'):
        main_job.verdict(job, dict(aAcc=50.), base)


FAKE_TOOL = r'''
import sys
print('building the model', flush=True)
for i in (5, 10):
    print(f'12/05 08:00:00 - mmengine - INFO - Iter(train) [{i:3d}/10]  eta: 0:00:0{10 - i}  '
          f'loss: {1 / i:.4f}', flush=True)
print('to stderr', file=sys.stderr, flush=True)
sys.exit(int(sys.argv[1]))
'''


def test_run_phase_logs_everything_and_tracks_progress(main_job, tmp_path, capsys):
    log = str(tmp_path / 'w' / 'train.log')
    state = main_job.run_phase('train', [sys.executable, '-c', FAKE_TOOL, '0'], log,
                               progress=True)
    assert (state['iter'], state['total'], state['loss']) == (10, 10, 0.1)
    assert state['log'] == log and state['seconds'] > 0
    text = open(log).read()
    for part in ('building the model', 'Iter(train) [  5/10]', 'to stderr'):
        assert part in text
    assert 'building the model' not in capsys.readouterr().out  # the terminal shows the bar


def test_run_phase_failure_names_the_log(main_job, tmp_path):
    log = str(tmp_path / 'data.log')
    with pytest.raises(main_job.PhaseError, match='exit 3') as err:
        main_job.run_phase('data', [sys.executable, '-c', FAKE_TOOL, '3'], log)
    assert log in str(err.value) and 'to stderr' in str(err.value)


def _fake_phases(main_job, monkeypatch, miou: float) -> list:
    """Replace the phases with a stand-in that writes the files the tools write."""
    calls = []

    def fake_run_phase(name, cmd, log_path, progress=False, env=None, what=None):
        calls.append((name, cmd))
        work_dir = osp.dirname(log_path)
        os.makedirs(work_dir, exist_ok=True)
        if name == 'train':
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(osp.join(work_dir, 'iter_10.pth'))
        if name == 'test':
            os.makedirs(osp.join(work_dir, '20261205_000000'), exist_ok=True)
            with open(osp.join(work_dir, '20261205_000000', '20261205_000000.json'), 'w') as f:
                json.dump(dict(mIoU=miou, aAcc=80.), f)
        return dict(seconds=1.0, log=log_path)

    monkeypatch.setattr(main_job, 'run_phase', fake_run_phase)
    monkeypatch.setitem(main_job.JOBS, 'fake', dict(
        config='configs/fake.py', metric='mIoU', gallery='seg', about='a stand-in job',
        baselines=lambda data: dict(chance=5., majority=7.),
        threshold=main_job.Threshold(('chance', 'majority'), 5.)))
    return calls


@pytest.mark.parametrize('miou, code', [(12.5, 0), (11.5, 1)])
def test_job_exit_status_follows_its_threshold(main_job, monkeypatch, tmp_path, capsys, miou,
                                               code):
    calls = _fake_phases(main_job, monkeypatch, miou)
    work_dir = str(tmp_path / 'fake')
    assert main_job.main(['--job', 'fake', '--work-dir', work_dir]) == code
    assert [name for name, _ in calls] == ['data', 'train', 'test', 'gallery']
    train_cmd = dict(calls)['train']
    assert 'default_hooks.logger.interval=5' in train_cmd
    gallery_cmd = dict(calls)['gallery']
    assert gallery_cmd[1:5] == ['tools/misc/gallery.py', 'seg', 'configs/fake.py',
                                osp.join(work_dir, 'iter_10.pth')]
    out = capsys.readouterr().out
    assert f'mIoU = {miou:.2f}' in out and 'chance 5.00, majority 7.00' in out
    assert 'threshold: mIoU >= max(chance, majority) + 5 = 12.00' in out
    assert ('PASSED' if code == 0 else 'MISSED') in out
    assert osp.join(work_dir, 'gallery', 'index.html') in out


def test_seed_reaches_the_training_run(main_job, monkeypatch, tmp_path):
    calls = _fake_phases(main_job, monkeypatch, 12.5)
    assert main_job.main(['--job', 'fake', '--work-dir', str(tmp_path / 'fake'),
                          '--seed', '2']) == 0
    train_cmd = dict(calls)['train']
    assert 'randomness.seed=2' in train_cmd
    assert not any('randomness.seed' in arg for arg in dict(calls)['test'])


def test_list(main_job, capsys):
    assert main_job.main(['--list']) == 0
    out = capsys.readouterr().out
    for name in list(main_job.JOBS) + ['all']:
        assert name in out
    assert 'painter (default)' in out


def _shipped(tmp_path, content: bytes = b'weights') -> str:
    """A stand-in shipped checkpoint and the SHA256SUMS that records it."""
    import hashlib
    folder = tmp_path / 'shipped'
    folder.mkdir()
    (folder / 'toy.pth').write_bytes(content)
    (folder / 'SHA256SUMS').write_text(f'{hashlib.sha256(content).hexdigest()}  toy.pth\n')
    return str(folder / 'toy.pth')


@pytest.mark.parametrize('extra, trains', [
    ([], False), (['--from-scratch'], True), (['--seed', '1'], True),
    (['--train-options', 'train_cfg.max_iters=5'], True)])
def test_shipped_checkpoint_is_tested_unless_training_is_asked(main_job, monkeypatch, tmp_path,
                                                              extra, trains):
    calls = _fake_phases(main_job, monkeypatch, 12.5)
    checkpoint = _shipped(tmp_path)
    monkeypatch.setitem(main_job.JOBS['fake'], 'checkpoint', checkpoint)
    work_dir = str(tmp_path / 'fake')
    assert main_job.main(['--job', 'fake', '--work-dir', work_dir] + extra) == 0
    names = [name for name, _ in calls]
    if trains:
        assert names == ['data', 'train', 'test', 'gallery']
        assert dict(calls)['test'][3] == osp.join(work_dir, 'iter_10.pth')
    else:
        assert names == ['data', 'test', 'gallery']
        assert dict(calls)['test'][3] == checkpoint
        assert dict(calls)['gallery'][4] == checkpoint
        # the work dir names it as a training run would (docs/get_started.md reads it)
        with open(osp.join(work_dir, 'last_checkpoint'), encoding='utf-8') as f:
            assert f.read() == checkpoint


def test_altered_shipped_checkpoint_stops_the_job(main_job, monkeypatch, tmp_path, capsys):
    calls = _fake_phases(main_job, monkeypatch, 12.5)
    checkpoint = _shipped(tmp_path)
    with open(checkpoint, 'ab') as f:
        f.write(b'!')
    monkeypatch.setitem(main_job.JOBS['fake'], 'checkpoint', checkpoint)
    assert main_job.main(['--job', 'fake', '--work-dir', str(tmp_path / 'fake')]) == 1
    assert [name for name, _ in calls] == ['data']
    err = capsys.readouterr().err
    assert checkpoint in err and 'SHA-256' in err and 'changed' in err


@pytest.mark.parametrize('name', ['painter', 'groupvit'])
def test_job_ships_its_checkpoint(main_job, name):
    """The shipped toy checkpoints are the files their SHA256SUMS record, next to the commands
    that made them (their evaluations: tests/test_tools/test_{painter,groupvit}_e2e.py)."""
    job = main_job.JOBS[name]
    path = main_job.shipped_checkpoint(job['checkpoint'])
    with open(osp.join(osp.dirname(path), 'COMMAND'), encoding='utf-8') as f:
        command = f.read()
    # the command names the job's config and ends by publishing this very file
    assert job['config'] in command and osp.basename(path) in command, name
    assert osp.getsize(path) < 20e6
