# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Does ``torch.compile`` / bfloat16 autocast change what a config computes?

    python tools/analysis_tools/benchmark_compile_amp.py [--methods all] [--iters 100]
        [--check {amp,compile} ...] [--compile-backend inductor] [--seed 0]
        [--shapesworld ROOT] [--out result.json]

For each method's toy config (:data:`benchmark.METHODS`) the runner's pieces are built twice
from the same seed (model, optimizer wrapper, train dataloader; no hooks, no schedulers) and
the same batches are trained on:

* ``amp``: ``--iters`` training iterations in float32 and under ``CPUAmpOptimWrapper``
  (bfloat16 autocast); reported: the largest relative deviation of the bf16 loss from the fp32
  loss over the curve, ``max_t |l_bf16(t) - l_fp32(t)| / |l_fp32(t)|``, and of their means
  over the last 10 iterations.
* ``compile``: ``--compile-iters`` training iterations eager and with ``train_step`` compiled
  (:func:`mmgen_vision.utils.compile_model_steps`), then ``--compile-iters`` test batches:
  the losses' largest relative deviation, the tensors of the predictions' largest absolute
  difference and the fraction of their elements that differ by more than 1e-4, and the
  graphs compiled at each step (none after the first steps: no recompilation).

Peekaboo has no training step: its ``amp`` check is skipped and its ``compile`` check covers
the test step (one compiled optimisation iteration, ``PeekabooSegmentor.compile_instead``).
Python's, NumPy's and torch's RNGs are reseeded before each step, so that random masks and
draws are the same in both runs. Times are not measured here (see ``benchmark.py``).
"""
import argparse
import copy
import json
import os.path as osp
import random
import sys
import tempfile
from typing import List, Optional

import numpy as np
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.utils import (  # noqa: E402
    CompileCounter, compile_model_steps, enable_amp, load_config, register_all_modules)
from mmgen_vision.utils.compile import eager_update_params  # noqa: E402

sys.path.insert(0, osp.dirname(osp.realpath(__file__)))
import benchmark as bench  # noqa: E402

#: The ShapesWorld roots of the toy configs (rewritten by ``--shapesworld``).
TOY_DATA_ROOTS = ('data/shapesworld64_glid', 'data/shapesworld64', 'data/shapesworld_cc',
                  'data/shapesworld_groupvit_cc', 'data/shapesworld')


def toy_config(method: str, phase: str, shapesworld: Optional[str] = None,
               tiny_sd: Optional[str] = None):
    """The toy config of ``method`` for ``phase`` (``'train'`` / ``'inference'``), its
    dataloaders without workers, optionally on another ShapesWorld directory / tiny SD."""
    config = bench.METHODS[method]['toy'][0 if phase == 'train' else 1]
    if config is None:
        return None
    cfg = load_config(osp.join(REPO_ROOT, 'configs', config))
    cfg.log_level = 'WARNING'
    if shapesworld is not None:
        rewrite_roots(cfg, shapesworld)
    if tiny_sd is not None and 'guide' in cfg.model:
        cfg.model.guide.pretrained_path = tiny_sd
    for key in ('train_dataloader', 'test_dataloader', 'val_dataloader'):
        if cfg.get(key) is not None:
            cfg[key].num_workers = 0
            cfg[key].persistent_workers = False
    return cfg


def rewrite_roots(cfg, root: str):
    """Every path under one of :data:`TOY_DATA_ROOTS` moved under ``root`` (in place)."""
    def rewrite(value):
        if isinstance(value, str):
            for prefix in TOY_DATA_ROOTS:
                if value == prefix or value.startswith(prefix + '/'):
                    return root + value[len(prefix):]
            return value
        if isinstance(value, dict):
            for key in list(value.keys()):
                value[key] = rewrite(value[key])
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(rewrite(v) for v in value)
        return value

    for key in list(cfg.keys()):
        cfg[key] = rewrite(cfg[key])
    return cfg


def _seed(value: int) -> None:
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)


def _loss(log_vars: dict) -> float:
    return float(sum(float(v.detach()) if torch.is_tensor(v) else float(v)
                     for k, v in log_vars.items() if k.startswith('loss')))


def train_losses(cfg, num_iters: int, amp: bool = False, compile: Optional[str] = None,
                 seed: int = 0, batches: Optional[list] = None) -> dict:
    """Train ``num_iters`` steps from the seed's initialisation.

    Returns:
        dict: ``losses`` (per step, the sum of the ``loss*`` log variables), ``graphs``
        (graphs Dynamo compiled at each step) and ``batches`` (the data, to reuse).
    """
    cfg = copy.deepcopy(cfg)
    cfg.randomness = dict(seed=seed)  # the runner seeds the initialisation with it
    if amp:
        enable_amp(cfg, 'cpu')
    with tempfile.TemporaryDirectory(prefix='compile_amp_') as work_dir:
        _seed(seed)
        runner = bench._build_runner(cfg, work_dir)
        model = runner.model
        optim_wrapper = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
        if batches is None:
            loader = runner.build_dataloader(runner.cfg.train_dataloader, seed=seed)
            batches = [b for b, _ in zip(bench._cycle(loader), range(num_iters))]
        if compile:
            compile_model_steps(model, ('train_step', ), dict(backend=compile))
            eager_update_params(optim_wrapper)
        model.train()
        counter = CompileCounter()
        losses, graphs = [], []
        for i, data in enumerate(batches[:num_iters]):
            _seed(seed + 1000 + i)
            losses.append(_loss(model.train_step(copy.deepcopy(data), optim_wrapper)))
            graphs.append(counter.snapshot()['graphs'])
    return dict(losses=losses, graphs=graphs, batches=batches)


def _tensors(samples) -> List[torch.Tensor]:
    """Every tensor of the predictions' fields (``pred_*``, ``seg_logits``), in a fixed order."""
    out = []
    for sample in samples:
        for key in sorted(sample.keys()):
            if not (key.startswith('pred') or key == 'seg_logits'):
                continue
            value = sample.get(key)
            items = value.items() if hasattr(value, 'items') else [(key, value)]
            for _, tensor in sorted(items, key=lambda kv: kv[0]):
                if torch.is_tensor(tensor):
                    out.append(tensor.detach().float())
    return out


def test_outputs(cfg, num_batches: int, compile: Optional[str] = None, seed: int = 0) -> dict:
    """Predict ``num_batches`` test batches (cycled) with the seed's initialisation.

    Returns:
        dict: ``tensors`` (per batch, the predictions' tensors) and ``graphs`` per batch.
    """
    cfg = copy.deepcopy(cfg)
    cfg.randomness = dict(seed=seed)
    with tempfile.TemporaryDirectory(prefix='compile_amp_') as work_dir:
        _seed(seed)
        runner = bench._build_runner(cfg, work_dir)
        model = runner.model.eval()
        loader = runner.build_dataloader(runner.cfg.test_dataloader, seed=seed)
        if compile:
            compile_model_steps(model, ('test_step', ), dict(backend=compile))
        counter = CompileCounter()
        tensors, graphs = [], []
        for i, data in zip(range(num_batches), bench._cycle(loader)):
            _seed(seed + 2000 + i)
            with torch.no_grad():
                tensors.append(_tensors(model.test_step(data)))
            graphs.append(counter.snapshot()['graphs'])
    return dict(tensors=tensors, graphs=graphs)


def max_relative_deviation(values: List[float], reference: List[float]) -> float:
    """``max_t |v_t - r_t| / |r_t|``."""
    return max(abs(v - r) / max(abs(r), 1e-12) for v, r in zip(values, reference))


def check_amp(method: str, iters: int, seed: int = 0, **where) -> Optional[dict]:
    """fp32 vs bf16 training curves of ``method``'s toy config (None: no training step)."""
    cfg = toy_config(method, 'train', **where)
    if cfg is None:
        return None
    fp32 = train_losses(cfg, iters, seed=seed)
    bf16 = train_losses(cfg, iters, amp=True, seed=seed, batches=fp32['batches'])
    tail = min(10, iters)
    mean32 = float(np.mean(fp32['losses'][-tail:]))
    mean16 = float(np.mean(bf16['losses'][-tail:]))
    return dict(
        fp32=fp32['losses'],
        bf16=bf16['losses'],
        max_rel_dev=max_relative_deviation(bf16['losses'], fp32['losses']),
        last10_rel_dev=abs(mean16 - mean32) / abs(mean32))


def check_compile(method: str, iters: int, backend: str = 'inductor', seed: int = 0,
                  **where) -> dict:
    """Eager vs compiled train (when the method trains) and test steps of the toy config."""
    result = dict(backend=backend)
    cfg = toy_config(method, 'train', **where)
    if cfg is not None:
        eager = train_losses(cfg, iters, seed=seed)
        compiled = train_losses(cfg, iters, compile=backend, seed=seed,
                                batches=eager['batches'])
        result['train'] = dict(
            eager=eager['losses'], compiled=compiled['losses'], graphs=compiled['graphs'],
            max_rel_dev=max_relative_deviation(compiled['losses'], eager['losses']))
    cfg = toy_config(method, 'inference', **where)
    eager = test_outputs(cfg, iters, seed=seed)
    compiled = test_outputs(cfg, iters, compile=backend, seed=seed)
    diffs = [
        float((c - e).abs().max()) if c.shape == e.shape and c.numel() else
        (0. if c.shape == e.shape else float('inf'))
        for ce, ee in zip(compiled['tensors'], eager['tensors']) for c, e in zip(ce, ee)
    ]
    pairs = [(c, e) for ce, ee in zip(compiled['tensors'], eager['tensors'])
             for c, e in zip(ce, ee) if c.shape == e.shape]
    changed = sum(int(((c - e).abs() > 1e-4).sum()) for c, e in pairs)
    result['test'] = dict(graphs=compiled['graphs'], max_abs_diff=max(diffs or [0.]),
                          num_tensors=len(diffs),
                          changed_fraction=changed / max(sum(e.numel() for _, e in pairs), 1))
    return result


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', choices=('all', ) + tuple(bench.METHODS),
                        default=['all'])
    parser.add_argument('--check', nargs='+', choices=('amp', 'compile'),
                        default=['amp', 'compile'])
    parser.add_argument('--iters', type=int, default=100, help='iterations of the amp curves')
    parser.add_argument('--compile-iters', type=int, default=4,
                        help='train and test steps of the compile check')
    parser.add_argument('--compile-backend', default='inductor')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--shapesworld', help='ShapesWorld root instead of the configs\' ones')
    parser.add_argument('--tiny-sd', help='tiny Stable Diffusion directory for Peekaboo')
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args(argv)
    register_all_modules(init_default_scope=False)
    methods = list(bench.METHODS) if 'all' in args.methods else args.methods
    where = dict(shapesworld=args.shapesworld, tiny_sd=args.tiny_sd)
    results = {}
    for method in methods:
        results[method] = {}
        if 'amp' in args.check:
            amp = check_amp(method, args.iters, args.seed, **where)
            results[method]['amp'] = amp
            if amp is not None:
                print(f'{method} amp: {args.iters} iterations, max |bf16 - fp32| / fp32 = '
                      f'{amp["max_rel_dev"]:.4f}; last-10 mean deviation '
                      f'{amp["last10_rel_dev"]:.4f}', flush=True)
        if 'compile' in args.check:
            comp = check_compile(method, args.compile_iters, args.compile_backend, args.seed,
                                 **where)
            results[method]['compile'] = comp
            if 'train' in comp:
                print(f'{method} compile ({args.compile_backend}) train: max rel loss deviation '
                      f'{comp["train"]["max_rel_dev"]:.2e}, graphs per step '
                      f'{comp["train"]["graphs"]}', flush=True)
            print(f'{method} compile ({args.compile_backend}) test: max abs diff '
                  f'{comp["test"]["max_abs_diff"]:.2e} over {comp["test"]["num_tensors"]} '
                  f'tensors, graphs per batch {comp["test"]["graphs"]}', flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
