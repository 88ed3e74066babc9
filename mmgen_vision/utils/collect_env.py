# Copyright (c) mmgen_vision contributors. All rights reserved.
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


if __name__ == '__main__':
    for key, value in collect_env().items():
        print(f'{key}: {value}')
