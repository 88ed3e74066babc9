# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``keep_freed_host_memory``: freed large tensors are reused without page faults, training
takes bitwise the same steps, importing the package sets nothing, and it can be turned off.
Each case runs in a fresh interpreter (the allocator setting is per process)."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'),
                                reason='glibc mallopt')

PROBE = r'''
import json, os, resource, sys
import torch
import mmgen_vision.utils as utils  # importing changes no allocator
applied = utils.keep_freed_host_memory()  # MMGV_KEEP_FREED_MEMORY=0: does nothing

def faults_of_a_tensor(mib):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = torch.zeros(mib * 1024 * 1024 // 4)  # touched by the zero fill
    del x
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

faults_of_a_tensor(100)  # the first ones fault their pages in either way
faults_of_a_tensor(48)
faults = faults_of_a_tensor(48)
weights = {}
for threads in (1, 2):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.GELU(),
                                torch.nn.Linear(1024, 8))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(5):
        loss = model(torch.randn(4096, 256)).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    weights[threads] = [p.detach().flatten().tolist() for p in model.parameters()]
print(json.dumps(dict(applied=applied, faults=faults, weights=weights)))
'''


def _probe(keep: bool) -> dict:
    env = dict(os.environ, MMGV_KEEP_FREED_MEMORY='1' if keep else '0')
    out = subprocess.run([sys.executable, '-c', PROBE], check=True, capture_output=True,
                         text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_freed_memory_is_reused_and_training_is_unchanged():
    """Importing sets nothing and ``MMGV_KEEP_FREED_MEMORY=0`` keeps glibc's default; set, a
    freed 48 MiB tensor is reused without a page fault, and five AdamW steps of an MLP end in
    bitwise the same weights at one and two threads."""
    plain, kept = _probe(keep=False), _probe(keep=True)
    assert plain['applied'] is False and kept['applied'] is True
    # 48 MiB is 12288 pages: glibc's mmap faults each of them in again, the kept heap none
    assert plain['faults'] > 10000, plain['faults']
    assert kept['faults'] < 1000, kept['faults']
    assert kept['weights'] == plain['weights']  # bitwise the same training
