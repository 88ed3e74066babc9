# Copyright (c) mmgen_vision contributors. All rights reserved.
import torch
from mmengine.config import Config


def adapt_distributed_cfg(cfg: Config, launcher: str) -> Config:
    """Make a distributed launch work on machines without CUDA.

    On CPU-only machines the ``nccl`` backend does not exist and ``DistributedDataParallel``
    must not receive ``device_ids``. When ``launcher`` is not ``'none'`` and CUDA is not
    available, switch ``env_cfg.dist_cfg.backend`` to ``gloo`` and wrap the model with
    ``MMDistributedDataParallel(device_ids=None)``. Nothing changes on GPU machines.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg


def enable_amp(cfg: Config) -> Config:
    """Switch the optimizer wrapper to mixed precision (``--amp``).

    CUDA: MMEngine's ``AmpOptimWrapper`` with dynamic loss scaling. CPU: our
    ``CPUAmpOptimWrapper`` (bfloat16 autocast, no scaler).
    """
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        return cfg
    if optim_wrapper not in ('OptimWrapper', 'mmengine.OptimWrapper'):
        raise ValueError(f'--amp only replaces OptimWrapper, but the config uses {optim_wrapper}')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    return cfg
