# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Measure training throughput, inference latency and peak memory of any config.

    python tools/analysis_tools/benchmark.py CONFIG [--mode {train,inference,both}]
        [--num-iters 20] [--warmup 5] [--device {cpu,cuda}] [--amp]
        [--cfg-options k=v ...] [--out result.json]

The runner is built from the config (its work dir is a temporary directory that is removed
afterwards) and only its pieces are used: the train dataloader, the model and the optimizer
wrapper for ``model.train_step``, the test dataloader for ``model.test_step``. No hooks run, no
checkpoint is loaded and no weights are initialised from pre-trained files: the numbers are
those of the architecture and the data pipeline, not of a particular checkpoint.

* train: ``--warmup`` steps, then ``--num-iters`` timed steps; iterations and samples per
  second over the whole loop (data loading included), with the step time (``train_step``
  alone) and the data time reported apart.
* inference: ``model.test_step`` in eval mode without gradients on test batches (cycling the
  test dataloader when it is shorter than the run); latency per batch in ms (mean, std),
  data loading excluded.
* memory: the peak of ``torch.cuda.max_memory_allocated`` over the timed steps of each
  phase on CUDA; on CPU the peak resident set size of the process so far (``getrusage``
  ``ru_maxrss``), which cannot be reset and so includes everything the process did before.
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from typing import Callable, Iterator, List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmengine.runner.amp import autocast

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.registry import RUNNERS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    benchmark_environment, enable_amp, load_config, register_all_modules)

MODES = ('train', 'inference', 'both')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark training throughput, inference latency and peak memory')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--mode', choices=MODES, default='both', help='what to measure')
    parser.add_argument('--num-iters', type=int, default=20, help='timed iterations per phase')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations before them')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run on (default: cuda when available)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: AmpOptimWrapper (float16) on CUDA, CPUAmpOptimWrapper (bfloat16) '
        'on CPU; inference runs under the same autocast')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    parser.add_argument('--out', help='write the measurements as JSON to this file')
    args = parser.parse_args(argv)
    if args.num_iters < 1 or args.warmup < 0:
        parser.error('--num-iters must be >= 1 and --warmup >= 0')
    return args


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def _reset_peak_memory(device: str) -> None:
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()


def peak_memory_mib(device: str) -> float:
    """Peak memory in MiB: CUDA's max allocated since the last reset, or the process's RSS."""
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return maxrss / 2**20 if sys.platform == 'darwin' else maxrss / 2**10


def _batch_size(data, default: Optional[int]) -> int:
    inputs = data.get('inputs') if isinstance(data, dict) else None
    if isinstance(inputs, (list, tuple, torch.Tensor)):
        return len(inputs)
    if isinstance(inputs, dict) and inputs:  # multi-modal inputs: dict of batched values
        return len(next(iter(inputs.values())))
    return default or 1


def _cycle(dataloader) -> Iterator:
    """Iterate over ``dataloader`` forever (finite samplers are restarted)."""
    while True:
        empty = True
        for data in dataloader:
            empty = False
            yield data
        if empty:
            raise RuntimeError('the dataloader is empty')


def _stats(values: List[float]) -> dict:
    arr = np.asarray(values, dtype=np.float64) * 1000
    return dict(mean=float(arr.mean()), std=float(arr.std()), min=float(arr.min()),
                max=float(arr.max()))


def _time_loop(batches: Iterator, step: Callable, num_iters: int, warmup: int, device: str,
               default_batch_size: Optional[int]) -> dict:
    """Run ``step(data)`` on ``warmup + num_iters`` batches and time the last ``num_iters``."""
    for _ in range(warmup):
        step(next(batches))
    _sync(device)
    _reset_peak_memory(device)
    data_times, step_times, samples = [], [], 0
    start = time.perf_counter()
    for _ in range(num_iters):
        t0 = time.perf_counter()
        data = next(batches)
        t1 = time.perf_counter()
        step(data)
        _sync(device)
        t2 = time.perf_counter()
        data_times.append(t1 - t0)
        step_times.append(t2 - t1)
        samples += _batch_size(data, default_batch_size)
    total = time.perf_counter() - start
    return dict(
        iters=num_iters,
        samples=samples,
        batch_size=samples / num_iters,
        total_time_s=total,
        iter_per_s=num_iters / total,
        samples_per_s=samples / total,
        step_time_ms=_stats(step_times),
        data_time_ms=_stats(data_times),
        peak_memory_mib=peak_memory_mib(device))


def _build_runner(cfg: Config, work_dir: str) -> Runner:
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.load_from = None
    cfg.resume = False
    # a unique name: the runner's logger and visualizer are global instances keyed by it
    cfg.experiment_name = f'benchmark_{uuid.uuid4().hex[:12]}'
    if isinstance(cfg.get('visualizer'), dict):
        cfg.visualizer['name'] = cfg.experiment_name
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def benchmark(cfg: Config,
              mode: str = 'both',
              num_iters: int = 20,
              warmup: int = 5,
              device: Optional[str] = None,
              amp: bool = False) -> dict:
    """Measure a config's training throughput, inference latency and peak memory.

    Args:
        cfg (Config): The (already overridden) config.
        mode (str): ``'train'``, ``'inference'`` or ``'both'``.
        num_iters (int): Timed iterations per phase.
        warmup (int): Untimed iterations run before the timed ones.
        device (str, optional): ``'cpu'`` or ``'cuda'``; default CUDA when available.
        amp (bool): Mixed precision (see :func:`set_amp`); inference under autocast.

    Returns:
        dict: ``config``, ``mode``, ``amp``, ``num_iters``, ``warmup``, ``env`` (see
        :func:`environment`), ``memory_kind``, ``optim_wrapper`` (the wrapper's class, when
        training is measured) and, per measured phase, a ``train`` / ``inference`` dict with
        ``iter_per_s``, ``samples_per_s``, ``batch_size``, ``step_time_ms`` and
        ``data_time_ms`` (mean/std/min/max; for inference the step time is the latency, also
        under ``latency_ms``), ``total_time_s`` and ``peak_memory_mib``.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if num_iters < 1 or warmup < 0:
        raise ValueError('num_iters must be >= 1 and warmup >= 0')
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda was asked for, but CUDA is not available')
    cfg = copy.deepcopy(cfg)  # Config.copy is shallow: set_amp must not touch the caller's
    if amp:
        enable_amp(cfg, device)

    result = dict(
        config=cfg.filename,
        mode=mode,
        amp=amp,
        num_iters=num_iters,
        warmup=warmup,
        env=benchmark_environment(device),
        memory_kind='cuda_max_memory_allocated' if device == 'cuda' else 'process_peak_rss')
    with tempfile.TemporaryDirectory(prefix='benchmark_') as work_dir:
        runner = _build_runner(cfg, work_dir)
        model = runner.model.to(device)  # the runner puts it on the default device
        if mode in ('train', 'both'):
            optim_wrapper = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
            result['optim_wrapper'] = type(optim_wrapper).__name__
            dataloader = runner.build_dataloader(runner.cfg.train_dataloader, seed=runner.seed)
            model.train()
            batches = _cycle(dataloader)
            result['train'] = _time_loop(
                batches, lambda data: model.train_step(data, optim_wrapper), num_iters, warmup,
                device, dataloader.batch_size)
            del batches, dataloader  # stops the loader's worker processes
        if mode in ('inference', 'both'):
            dataloader = runner.build_dataloader(runner.cfg.test_dataloader, seed=runner.seed)
            model.eval()
            dtype = torch.float16 if device == 'cuda' else torch.bfloat16

            def infer(data):
                context = autocast(device_type=device, dtype=dtype) if amp else nullcontext()
                with torch.no_grad(), context:
                    model.test_step(data)

            batches = _cycle(dataloader)
            result['inference'] = _time_loop(batches, infer, num_iters, warmup, device,
                                             dataloader.batch_size)
            result['inference']['latency_ms'] = result['inference']['step_time_ms']
            del batches, dataloader
    return result


def format_table(result: dict) -> str:
    """The measurements as a plain-text table."""
    rows = [('phase', 'batch', 'it/s', 'samples/s', 'step ms (mean ± std)', 'data ms',
             'peak mem MiB')]
    for phase in ('train', 'inference'):
        if phase not in result:
            continue
        r = result[phase]
        rows.append((phase, f'{r["batch_size"]:g}', f'{r["iter_per_s"]:.2f}',
                     f'{r["samples_per_s"]:.2f}',
                     f'{r["step_time_ms"]["mean"]:.1f} ± {r["step_time_ms"]["std"]:.1f}',
                     f'{r["data_time_ms"]["mean"]:.1f}', f'{r["peak_memory_mib"]:.0f}'))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def fmt(row):
        return '| ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths)) + ' |'

    env = result['env']
    head = (f'config: {result["config"]}\n'
            f'device: {env["device"]} ({env["device_name"]}), torch {env["torch"]}, '
            f'{env["torch_threads"]} threads, amp: {result["amp"]}\n'
            f'{result["num_iters"]} timed iterations after {result["warmup"]} warm-up; '
            f'memory: {result["memory_kind"]}')
    return '\n'.join([head, line, fmt(rows[0]), line] + [fmt(r) for r in rows[1:]] + [line])


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options)
    if 'log_level' not in (args.cfg_options or {}):
        cfg.log_level = 'WARNING'  # keep the runner's start-up report out of the table
    result = benchmark(cfg, args.mode, args.num_iters, args.warmup, args.device, args.amp)
    print(format_table(result))
    if args.out:
        out_dir = osp.dirname(osp.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'results written to {args.out}')
    return result


if __name__ == '__main__':
    main()
