# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The tests' tool server runs a script as a fresh ``python script args`` would."""
import os
import subprocess
import sys

import pytest
import torch
from conftest import ENV_AT_START, ToolServer

SCRIPT = '''
import atexit, os, sys
import torch
atexit.register(lambda: print('atexit ran'))
print(__name__, os.path.basename(__file__), sys.argv[1:], os.getcwd(),
      os.environ.get('MMGV_TOOL_SERVER_PROBE'), torch.get_num_threads(),
      os.path.basename(sys.path[0]))
mode = sys.argv[1]
if mode == 'code':
    sys.exit(3)
if mode == 'message':
    sys.exit('a message for the user')
if mode == 'raise':
    raise ValueError('boom')
if mode == 'sleep':
    import time
    time.sleep(120)
'''


@pytest.fixture
def script(tmp_path):
    path = tmp_path / 'probe_tool' / 'probe.py'
    path.parent.mkdir()
    path.write_text(SCRIPT)
    return str(path)


def _env(threads='1'):
    return dict(ENV_AT_START, PYTHONUNBUFFERED='1', OMP_NUM_THREADS=threads,
                MMGV_TOOL_SERVER_PROBE='probe')


@pytest.mark.parametrize('mode,threads', [('ok', '1'), ('ok', '2'), ('code', '1'),
                                          ('message', '1'), ('raise', '1')])
def test_forked_run_matches_a_fresh_interpreter(script, tmp_path, mode, threads):
    env = _env(threads)
    fresh = subprocess.run([sys.executable, script, mode, 'x y'], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    with ToolServer.acquire() as server:
        forked = server.run([script, mode, 'x y'], str(tmp_path), env, timeout=300)
    assert forked.returncode == fresh.returncode
    assert forked.stdout == fresh.stdout
    assert f"__main__ probe.py ['{mode}', 'x y'] {tmp_path} probe {threads} probe_tool" \
        in forked.stdout
    assert forked.stdout.endswith('atexit ran\n')
    expected_status = {'ok': 0, 'code': 3, 'message': 1, 'raise': 1}[mode]
    assert forked.returncode == expected_status
    if mode == 'message':
        assert forked.stderr.endswith('a message for the user\n')
    if mode == 'raise':
        assert 'Traceback (most recent call last)' in forked.stderr
        assert forked.stderr.endswith('ValueError: boom\n')
        assert fresh.stderr.endswith('ValueError: boom\n')


def test_timeout_kills_the_run_and_the_server_goes_on(script, tmp_path):
    with ToolServer.acquire() as server:
        with pytest.raises(subprocess.TimeoutExpired):
            server.run([script, 'sleep'], str(tmp_path), _env(), timeout=2)
        after = server.run([script, 'ok'], str(tmp_path), _env(), timeout=300)
    assert after.returncode == 0 and 'atexit ran' in after.stdout


def test_runs_from_several_threads_get_their_own_output(script, tmp_path):
    """A test may run two tools side by side (threads): each gets its own server."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import run_tool
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(run_tool, [script, mode], str(tmp_path), check=False)
                for mode in ('code', 'message')]
        code, message = (run.result() for run in runs)
    assert code.returncode == 3 and "['code']" in code.stdout
    assert message.returncode == 1 and "['message']" in message.stdout
    assert message.stderr.endswith('a message for the user\n')


def test_only_run_time_variables_may_differ():
    with ToolServer.acquire() as server:
        # safe to fork only at one thread: ``make test`` runs its processes at one (conftest),
        # a plain ``pytest`` of this file at the machine's default, where every run is fresh
        assert server.single_threaded == (torch.get_num_threads() == 1)
        # this test process imported the same stack (cv2 set its Qt variables here too): its tool
        # runs are forked
        assert server.env_differences(dict(os.environ)) == []
        assert server.can_run(dict(server.env, OMP_NUM_THREADS='2', PYTEST_CURRENT_TEST='x',
                                   _TORCHINDUCTOR_PYOBJECT_TENSOR_DATA_PTR='123')
                              ) == server.single_threaded
        # read when the stack is imported: the server's imports would not see the change
        assert not server.can_run(dict(server.env, TORCHINDUCTOR_COMPILE_THREADS='7'))
        assert not server.can_run({k: v for k, v in server.env.items() if k != 'PATH'})
        assert os.environ.get('MMGV_TEST_FRESH_TOOLS') or server.proc.poll() is None
