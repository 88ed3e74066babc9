# Copyright (c) mmgen_vision contributors. All rights reserved.
import os
import warnings
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def prepare_distributed(cfg: Config, launcher: str) -> Config:
    """Make a distributed launch work on machines without CUDA.

    On CPU-only machines the ``nccl`` backend does not exist, MMEngine's ``pytorch`` launcher
    calls ``torch.cuda.set_device`` unconditionally, and ``DistributedDataParallel`` must not
    receive ``device_ids``. When ``launcher`` is not ``'none'`` and CUDA is not available, this
    switches ``env_cfg.dist_cfg.backend`` to ``gloo``, wraps the model with
    ``MMDistributedDataParallel(device_ids=None)`` and, for the ``pytorch`` launcher
    (torchrun), initialises the gloo process group itself (the runner then skips its own
    initialisation). Nothing changes on GPU machines.

    Raises:
        RuntimeError: ``slurm``/``mpi`` launchers on a machine without CUDA (MMEngine binds
            them to GPUs).
    """
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} needs CUDA; on CPU-only machines launch with '
                           'torchrun (tools/dist_train.sh), which uses the gloo backend.')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo', rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    return cfg


def close_distributed() -> None:
    """End a distributed run in step: every rank waits for the others, then the process
    group is destroyed.

    Call it once the runner has finished, on every rank. Without it each rank leaves with its
    process group alive, and a rank that outlives a peer by more than a moment (rank 0 still
    logging or saving while rank 1 has exited) is aborted by gloo's connection thread
    (``terminate called without an active exception``, SIGABRT): torchrun then reports the
    whole run as failed although training and evaluation completed. Does nothing when no
    process group is initialised.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


#: CPU flags (``/proc/cpuinfo``) of bfloat16 arithmetic in hardware.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16')


def cpu_has_bf16(cpuinfo: str = '/proc/cpuinfo') -> Optional[bool]:
    """Whether the CPU computes in bfloat16 natively (AVX-512 BF16 or AMX), from the flags of
    ``cpuinfo``; ``None`` when they cannot be read (not Linux)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith('flags'):
                    return any(flag in line.split() for flag in BF16_CPU_FLAGS)
    except OSError:
        return None
    return None


def warn_if_bf16_emulated(cpuinfo: str = '/proc/cpuinfo') -> bool:
    """Warn (and return True) when CPU mixed precision would run in emulated bfloat16.

    Without ``avx512_bf16`` / ``amx_bf16`` PyTorch converts every bfloat16 product to float32
    and back: measured on an AVX2-only CPU, GroupViT's paper-size inference ran 4.7x slower
    under bf16 autocast than in float32 (docs/benchmark.md), so ``--amp`` costs time there.
    """
    if cpu_has_bf16(cpuinfo) is False:
        warnings.warn(
            '--amp on CPU: this CPU has no bfloat16 instructions (none of '
            f'{", ".join(BF16_CPU_FLAGS)} in {cpuinfo}); bfloat16 autocast is emulated and '
            'runs slower than float32 (4.7x on GroupViT inference, docs/benchmark.md). '
            'Leave --amp off on this machine.', stacklevel=2)
        return True
    return False


def enable_amp(cfg: Config, device: Optional[str] = None) -> Config:
    """Switch the optimizer wrapper to mixed precision (``--amp``).

    CUDA: MMEngine's ``AmpOptimWrapper`` with dynamic loss scaling. CPU: our
    ``CPUAmpOptimWrapper`` (bfloat16 autocast, no scaler).

    Args:
        cfg (Config): The config; changed in place and returned.
        device (str, optional): ``'cuda'`` or ``'cpu'``; default: CUDA when available.
    """
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        warn_if_bf16_emulated()
    wanted = 'AmpOptimWrapper' if device == 'cuda' else 'CPUAmpOptimWrapper'
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if optim_wrapper == wanted:
        return cfg
    if optim_wrapper not in ('OptimWrapper', 'mmengine.OptimWrapper'):
        raise ValueError(f'--amp only replaces OptimWrapper, but the config uses {optim_wrapper}')
    cfg.optim_wrapper.type = wanted
    if device == 'cuda':
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    return cfg
