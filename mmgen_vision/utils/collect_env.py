# Copyright (c) mmgen_vision contributors. All rights reserved.
import os
import platform

import torch
from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env

import mmgen_vision


def collect_env() -> dict:
    """Collect the running environment: torch/CUDA/compilers plus the OpenMMLab stack."""
    env_info = collect_base_env()
    for name in ('mmcv', 'mmdet', 'mmseg', 'mmpose', 'diffusers', 'open_clip'):
        try:
            env_info[name] = __import__(name).__version__
        except Exception as err:  # report, do not fail, in an environment dump
            env_info[name] = f'unavailable ({err.__class__.__name__})'
    env_info['mmgen_vision'] = f'{mmgen_vision.__version__}+{get_git_hash()[:7]}'
    return env_info


def benchmark_environment(device: str) -> dict:
    """The software and hardware a benchmark's numbers were measured on (kept with them)."""
    import mmengine
    if device == 'cuda':
        device_name = torch.cuda.get_device_name(torch.cuda.current_device())
    else:
        device_name = platform.processor() or platform.machine()
        try:
            with open('/proc/cpuinfo') as f:
                names = [line.split(':', 1)[1].strip() for line in f
                         if line.startswith('model name')]
            if names:
                device_name = names[0]
        except OSError:
            pass
    env = dict(
        torch=torch.__version__,
        mmengine=mmengine.__version__,
        python=platform.python_version(),
        device=device,
        device_name=device_name,
        cpu_count=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        cuda=torch.version.cuda if device == 'cuda' else None)
    if hasattr(os, 'getloadavg'):
        env['load_average_1min'] = round(os.getloadavg()[0], 2)
    return env


if __name__ == '__main__':
    for key, value in collect_env().items():
        print(f'{key}: {value}')
