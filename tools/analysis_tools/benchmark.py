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
import itertools
import json
import os
import os.path as osp
import resource
import subprocess
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
# the sibling tools (get_flops.py and the specialised benchmarks of TOOLS)
TOOLS_DIR = osp.dirname(osp.realpath(__file__))
if TOOLS_DIR not in sys.path:
    sys.path.insert(0, TOOLS_DIR)

from mmgen_vision.registry import RUNNERS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    CompileCounter, benchmark_environment, compile_model_steps, enable_amp,
    keep_freed_host_memory, load_config, register_all_modules)
from mmgen_vision.utils.compile import eager_update_params  # noqa: E402

MODES = ('train', 'inference', 'both')

#: The configs of the table: method -> size -> (training config, inference config, paper data).
#: ``None`` marks a phase the method does not have (Peekaboo is training-free); paper configs
#: run on ShapesWorld through :func:`on_shapesworld` (their model, pipeline and input size).
#: ``vitb`` (Painter only): the paper config at the ViT-B size of issue 18's speed targets
#: (24 blocks x 768, 12 heads, 448 x 224 canvas), a benchmark size with no trained recipe.
METHODS = {
    'painter': dict(
        toy=('painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py',
             'painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py'),
        paper=('painter/painter_vit-large-p16_8tasks_896x448.py',
               'painter/painter_vit-large-p16_8tasks_896x448_ade20k-semseg.py'),
        vitb=('painter/painter_vit-768d24-p16_8tasks_448x224_benchmark.py',
              'painter/painter_vit-768d24-p16_8tasks_448x224_benchmark.py')),
    'xdecoder': dict(
        toy=('xdecoder/xdecoder_toy_shapesworld-joint.py',
             'xdecoder/xdecoder_toy_shapesworld-joint.py'),
        paper=('xdecoder/xdecoder_focalt_8xb4-50e_coco-joint.py',
               'xdecoder/xdecoder_focalt_8xb4-50e_coco-joint.py')),
    'glid': dict(
        toy=('glid/glid_toy_shapesworld-ade-semseg.py', 'glid/glid_toy_shapesworld-ade-semseg.py'),
        paper=('glid/glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py',
               'glid/glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py')),
    'peekaboo': dict(
        toy=(None, 'peekaboo/peekaboo_tiny-sd_shapesworld-voc.py'),
        paper=(None, 'peekaboo/peekaboo_sd14-fourier-bilateral_voc12.py')),
    'groupvit': dict(
        toy=('groupvit/groupvit_toy_shapesworld.py',
             'groupvit/groupvit_toy_shapesworld-voc-zeroshot.py'),
        paper=('groupvit/groupvit_gcc-yfcc_30e_paper.py',
               'groupvit/groupvit_gcc-yfcc_zeroshot_voc.py')),
}
SIZES = ('toy', 'paper', 'vitb')
#: Variant -> (amp, compile backend).
VARIANTS = {
    'fp32': (False, None),
    'compile': (False, 'inductor'),
    'bf16': (True, None),
    'compile+bf16': (True, 'inductor'),
}


#: The specialised benchmarks behind the same entry point, ``benchmark.py NAME [ARGS]``:
#: name -> (module in this folder, what it measures). ``benchmark.py NAME --help`` lists ARGS.
TOOLS = {
    'painter-cache': ('benchmark_painter', 'Painter training throughput and in-context latency '
                      'with and without the prompt cache'),
    'painter-attention': ('painter_attention_benchmark', 'Painter ViT-B train step: explicit '
                          'attention in training vs SDPA everywhere (interleaved pairs)'),
    'peekaboo-sweep': ('benchmark_peekaboo', "Peekaboo's per-image optimisation over images "
                       'per batch, backgrounds, captions, mask and composite sizes'),
    'compile-amp': ('benchmark_compile_amp', 'whether compile / bfloat16 change the loss curve '
                    'and the predictions of each toy config'),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark training throughput, inference latency and peak memory',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='specialised benchmarks (benchmark.py NAME [ARGS], NAME --help for ARGS):\n' +
        '\n'.join(f'  {name:<18} {about}' for name, (_, about) in TOOLS.items()))
    parser.add_argument('config', nargs='?', help='config file path (or --methods)')
    parser.add_argument(
        '--methods',
        nargs='+',
        choices=('all', ) + tuple(METHODS),
        help='instead of CONFIG: the table over these methods x --sizes x --variants, each '
        'cell and phase in its own process')
    parser.add_argument(
        '--sizes',
        nargs='+',
        choices=SIZES,
        default=['toy'],
        help='sizes of --methods; vitb: Painter at ViT-B size (24 blocks x 768, 448 x 224 '
        'canvas), skipped for the methods without it')
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=('all', ) + tuple(VARIANTS),
        default=['all'],
        help='precision / compilation variants of --methods')
    parser.add_argument(
        '--train-batch-size',
        type=int,
        metavar='N',
        help='with --methods: the training phases\' batch (train_dataloader.batch_size) instead '
        'of the config\'s per-GPU batch, e.g. for GroupViT\'s 256 on a CPU')
    parser.add_argument('--markdown', help='with --methods: write the table to this file')
    parser.add_argument(
        '--peekaboo-sd',
        metavar='DIR',
        help='with --methods peekaboo --sizes paper: a Stable Diffusion 1.x directory (e.g. '
        'the random one of benchmark_peekaboo.py --random-sd DIR --random-sd-arch sd-v1); '
        'without it the paper Peekaboo cell is skipped')
    parser.add_argument(
        '--cell-timeout', type=float, default=3600, help='seconds per phase of a cell')
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
        '--compile',
        nargs='?',
        const='inductor',
        metavar='BACKEND',
        help='torch.compile train_step and test_step (as the runner does with compile=True; '
        'the data preprocessor and the optimizer update stay eager); the backend defaults to '
        'inductor. The warm-up iterations include the compilation')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    parser.add_argument(
        '--shapesworld',
        metavar='ROOT',
        help='run on ShapesWorld: rewrite the real datasets\' paths of the config (data/coco, '
        'data/ade, data/VOCdevkit, ...) under ROOT (e.g. data/shapesworld), for paper configs')
    parser.add_argument(
        '--flops',
        action='store_true',
        help='also count the forward FLOPs per sample (get_flops.py) and report the FLOP/s '
        'each phase achieves against a large matrix product on this machine (the measured '
        'limit)')
    parser.add_argument('--out', help='write the measurements as JSON to this file')
    args = parser.parse_args(argv)
    if args.num_iters < 1 or args.warmup < 0:
        parser.error('--num-iters must be >= 1 and --warmup >= 0')
    if args.train_batch_size is not None and args.train_batch_size < 1:
        parser.error('--train-batch-size must be >= 1')
    if (args.config is None) == (args.methods is None):
        parser.error('give either CONFIG or --methods')
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
    """Run ``step(data)`` on ``warmup + num_iters`` batches and time the last ``num_iters``.

    ``graphs_warmup`` / ``graphs_timed`` count the graphs Dynamo compiled during the warm-up and
    the timed iterations (a compiled step that recompiles shows ``graphs_timed > 0``).
    """
    counter = CompileCounter()
    for _ in range(warmup):
        step(next(batches))
    _sync(device)
    compiled_warmup = counter.snapshot()
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
    compiled_timed = counter.snapshot()
    return dict(
        graphs_warmup=compiled_warmup['graphs'],
        graphs_timed=compiled_timed['graphs'],
        graph_breaks=compiled_warmup['graph_breaks'] + compiled_timed['graph_breaks'],
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
              amp: bool = False,
              compile: Optional[str] = None) -> dict:
    """Measure a config's training throughput, inference latency and peak memory.

    Args:
        cfg (Config): The (already overridden) config.
        mode (str): ``'train'``, ``'inference'`` or ``'both'``.
        num_iters (int): Timed iterations per phase.
        warmup (int): Untimed iterations run before the timed ones.
        device (str, optional): ``'cpu'`` or ``'cuda'``; default CUDA when available.
        amp (bool): Mixed precision (see :func:`set_amp`); inference under autocast.
        compile (str, optional): A ``torch.compile`` backend (``'inductor'``, ``'aot_eager'``,
            ...): ``train_step`` and ``test_step`` are compiled as the runner compiles them with
            ``compile=dict(backend=...)`` (:func:`mmgen_vision.utils.compile_model_steps`).

    Returns:
        dict: ``config``, ``mode``, ``amp``, ``num_iters``, ``warmup``, ``env`` (see
        :func:`environment`), ``memory_kind``, ``optim_wrapper`` (the wrapper's class, when
        training is measured) and, per measured phase, a ``train`` / ``inference`` dict with
        ``iter_per_s``, ``samples_per_s``, ``batch_size``, ``step_time_ms`` and
        ``data_time_ms`` (mean/std/min/max; for inference the step time is the latency, also
        under ``latency_ms``), ``total_time_s``, ``peak_memory_mib`` and the graphs Dynamo
        compiled (``graphs_warmup``, ``graphs_timed``: recompilations, ``graph_breaks``).
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if num_iters < 1 or warmup < 0:
        raise ValueError('num_iters must be >= 1 and warmup >= 0')
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda was asked for, but CUDA is not available')
    cfg = copy.deepcopy(cfg)  # Config.copy is shallow: set_amp must not touch the caller's
    if amp and mode != 'inference':  # inference runs under autocast; training-free
        enable_amp(cfg, device)  # configs (Peekaboo) have no optimizer wrapper

    result = dict(
        config=cfg.filename,
        mode=mode,
        amp=amp,
        compile=compile,
        num_iters=num_iters,
        warmup=warmup,
        env=benchmark_environment(device),
        memory_kind='cuda_max_memory_allocated' if device == 'cuda' else 'process_peak_rss')
    with tempfile.TemporaryDirectory(prefix='benchmark_') as work_dir:
        runner = _build_runner(cfg, work_dir)
        model = runner.model.to(device)  # the runner puts it on the default device
        if compile:
            compile_model_steps(model, ('train_step', 'test_step'), dict(backend=compile))
        if mode in ('train', 'both'):
            optim_wrapper = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
            result['optim_wrapper'] = type(optim_wrapper).__name__
            if compile:
                eager_update_params(optim_wrapper)
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
            def infer(data):
                context = (autocast(device_type=device, dtype=amp_dtype(device))
                           if amp else nullcontext())
                with torch.no_grad(), context:
                    model.test_step(data)

            batches = _cycle(dataloader)
            result['inference'] = _time_loop(batches, infer, num_iters, warmup, device,
                                             dataloader.batch_size)
            result['inference']['latency_ms'] = result['inference']['step_time_ms']
            del batches, dataloader
    return result


def amp_dtype(device: str) -> torch.dtype:
    """The autocast precision of ``--amp``: float16 on CUDA, bfloat16 on CPU."""
    return torch.float16 if device == 'cuda' else torch.bfloat16


#: Training FLOPs per sample as a multiple of the forward's: the backward pass costs about
#: twice the forward (a gradient for the activations and one for the weights).
TRAIN_FLOPS_FACTOR = 3


def add_utilisation(result: dict, cfg: Config, device: str) -> dict:
    """Add the FLOP/s each measured phase achieves and its fraction of the machine's peak.

    The forward FLOPs of one sample come from :func:`get_flops.get_flops` (the config's
    test-time forward on one test sample; one fused multiply-add is one FLOP); a training
    sample costs :data:`TRAIN_FLOPS_FACTOR` times that. The achieved rate divides by the step
    time alone (data loading excluded). The peak is :func:`get_flops.gemm_peak_flops` in the
    precision of the run (bfloat16 with ``amp`` on CPU, float16 on CUDA), measured in the same
    process and threads, so ``utilisation`` says how far the model is from what dense
    arithmetic reaches here. Changed in place and returned.
    """
    from get_flops import gemm_peak_flops, get_flops

    forward = get_flops(cfg, device=device)
    dtype = amp_dtype(device) if result['amp'] else torch.float32
    peak = gemm_peak_flops(device, dtype)
    result['flops'] = dict(forward_per_sample=float(forward['flops']),
                           input_shape=forward['input_shape'], peak_per_s=peak,
                           peak_dtype=str(dtype).replace('torch.', ''),
                           train_factor=TRAIN_FLOPS_FACTOR)
    for phase, factor in (('train', TRAIN_FLOPS_FACTOR), ('inference', 1)):
        if phase not in result:
            continue
        r = result[phase]
        per_s = factor * forward['flops'] * r['batch_size'] / (r['step_time_ms']['mean'] / 1e3)
        r['achieved_flops_per_s'] = per_s
        r['utilisation'] = per_s / peak
    return result


def format_table(result: dict) -> str:
    """The measurements as a plain-text table."""
    rows = [('phase', 'batch', 'it/s', 'samples/s', 'step ms (mean ± std)', 'data ms',
             'peak mem MiB', 'graphs (warm-up / timed)', 'GFLOP/s (of peak)')]
    for phase in ('train', 'inference'):
        if phase not in result:
            continue
        r = result[phase]
        rows.append((phase, f'{r["batch_size"]:g}', f'{r["iter_per_s"]:.2f}',
                     f'{r["samples_per_s"]:.2f}',
                     f'{r["step_time_ms"]["mean"]:.1f} ± {r["step_time_ms"]["std"]:.1f}',
                     f'{r["data_time_ms"]["mean"]:.1f}', f'{r["peak_memory_mib"]:.0f}',
                     f'{r["graphs_warmup"]} / {r["graphs_timed"]}', _utilisation(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def fmt(row):
        return '| ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths)) + ' |'

    env = result['env']
    if 'flops' in result:
        f = result['flops']
        rows_note = (f'\nforward {f["forward_per_sample"] / 1e9:.3g} GFLOP per sample '
                     f'(input {f["input_shape"]}), training x{f["train_factor"]}; peak: '
                     f'{f["peak_per_s"] / 1e9:.1f} GFLOP/s ({f["peak_dtype"]} matrix product)')
    else:
        rows_note = ''
    head = (f'config: {result["config"]}\n'
            f'device: {env["device"]} ({env["device_name"]}), torch {env["torch"]}, '
            f'{env["torch_threads"]} threads, amp: {result["amp"]}, '
            f'compile: {result.get("compile") or False}\n'
            f'{result["num_iters"]} timed iterations after {result["warmup"]} warm-up; '
            f'memory: {result["memory_kind"]}{rows_note}')
    return '\n'.join([head, line, fmt(rows[0]), line] + [fmt(r) for r in rows[1:]] + [line])


def _utilisation(r: dict) -> str:
    if 'achieved_flops_per_s' not in r:
        return '–'
    return f'{r["achieved_flops_per_s"] / 1e9:.1f} ({100 * r["utilisation"]:.0f} %)'


# ------------------------------------------------------------------ the real data on ShapesWorld
#: Real datasets' roots in the paper configs -> the ShapesWorld folder written in their format.
SHAPESWORLD_ROOTS = (
    ('data/ade/', 'ade/'),
    ('data/coco/', 'coco/'),
    ('data/nyu', 'nyu'),
    ('data/restoration/', 'restoration/'),
    ('data/imagenet', 'imagenet'),
    ('data/refcoco/', 'refcoco/'),
    ('data/VOCdevkit/', 'voc/VOCdevkit/'),
    ('data/image_text/gcc3m', 'shards'),
    ('data/image_text/gcc12m', 'shards'),
    ('data/image_text/yfcc14m', 'shards'),
)
#: The ShapesWorld image-text shards: the glob that replaces the ``shards`` of a dataset whose
#: ``data_root`` was an image-text root (``gcc-train-*.tar``, ``cc-*.tar``, ...).
SHAPESWORLD_SHARDS = 'train-*.tar'


def check_shapesworld(root: str) -> None:
    """Fail before any cell runs when the ShapesWorld folder that the paper configs read is
    missing (each cell would fail on its own, naming an annotation file deep inside it).

    Raises:
        SystemExit: ``root`` is no folder; the message gives the command that makes it.
    """
    if not osp.isdir(root):
        raise SystemExit(
            f'benchmark.py: ShapesWorld folder {root} not found; the paper-size cells run the '
            f'paper configs on it. Generate it first: make data (or python '
            f'tools/misc/generate_shapesworld.py --out-dir {root})')


def on_shapesworld(cfg: Config, root: str) -> Config:
    """Point every real dataset path of ``cfg`` at the ShapesWorld folder of the same format.

    Every string that starts with a root of :data:`SHAPESWORLD_ROOTS` (``data/coco/...``,
    ``data/VOCdevkit/...``) is rewritten under ``root``, so that a paper config (its model,
    pipeline and input size) runs on ShapesWorld without the real data; the image-text datasets
    there read :data:`SHAPESWORLD_SHARDS`. Changed in place.
    """
    def rewrite(value):
        if isinstance(value, str):
            for real, ours in SHAPESWORLD_ROOTS:
                if value.startswith(real) or value == real.rstrip('/'):
                    return osp.join(root, ours + value[len(real):])
            return value
        if isinstance(value, dict):
            image_text = str(value.get('data_root', '')).startswith('data/image_text/')
            for key in list(value.keys()):
                value[key] = rewrite(value[key])
            if image_text and 'shards' in value:
                value['shards'] = SHAPESWORLD_SHARDS
            return value
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if isinstance(value, tuple):
            return tuple(rewrite(v) for v in value)
        return value

    for key in list(cfg.keys()):
        cfg[key] = rewrite(cfg[key])
    return cfg


# ---------------------------------------------------------------------------- the table
def _cell_command(config: str, phase: str, size: str, variant: str, args,
                  out: str) -> List[str]:
    amp, backend = VARIANTS[variant]
    cmd = [sys.executable, osp.realpath(__file__), osp.join(REPO_ROOT, 'configs', config),
           '--mode', phase, '--num-iters', str(args.num_iters), '--warmup', str(args.warmup),
           '--device', args.device, '--out', out]
    if amp:
        cmd.append('--amp')
    if args.flops:
        cmd.append('--flops')
    if backend:
        cmd += ['--compile', backend]
    if size != 'toy':  # the paper configs' data paths
        cmd += ['--shapesworld', osp.join(REPO_ROOT, 'data', 'shapesworld')]
    options = dict(args.cfg_options or {})
    if config.startswith('peekaboo/') and size == 'paper':
        options['model.guide.pretrained_path'] = args.peekaboo_sd
    if phase == 'train' and args.train_batch_size:
        options['train_dataloader.batch_size'] = args.train_batch_size
    if options:
        cmd += ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]
    return cmd


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_table(args) -> List[dict]:
    """Every (method, size, variant) cell, each phase in a fresh process (its own peak RSS,
    compile caches and threads); a failed phase is recorded with the end of its error."""
    methods = list(METHODS) if 'all' in args.methods else args.methods
    variants = list(VARIANTS) if 'all' in args.variants else args.variants
    rows = []
    with tempfile.TemporaryDirectory(prefix='benchmark_table_') as tmp:
        for method, size, variant in itertools.product(methods, args.sizes, variants):
            if size not in METHODS[method]:  # vitb: Painter only
                continue
            row = dict(method=method, size=size, variant=variant)
            for phase, config in zip(('train', 'inference'), METHODS[method][size]):
                if config is None:
                    row[phase] = dict(skipped='training-free')
                    continue
                if args.mode not in ('both', phase):
                    row[phase] = dict(skipped=f'--mode {args.mode}')
                    continue
                if method == 'peekaboo' and size == 'paper' and not args.peekaboo_sd:
                    row[phase] = dict(skipped='needs --peekaboo-sd')
                    continue
                out = osp.join(tmp, f'{method}_{size}_{variant}_{phase}.json')
                cmd = _cell_command(config, phase, size, variant, args, out)
                print(f'[{method} | {size} | {variant} | {phase}] {" ".join(cmd[1:])}',
                      flush=True)
                start, cpu = time.perf_counter(), _children_cpu_s()
                try:
                    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                                          timeout=args.cell_timeout)
                except subprocess.TimeoutExpired:
                    row[phase] = dict(error=f'timeout after {args.cell_timeout:g} s')
                    continue
                finally:  # the phase's whole process: start-up, warm-up (compilation), timing
                    print(f'  {time.perf_counter() - start:.0f} s wall, '
                          f'{_children_cpu_s() - cpu:.0f} s CPU', flush=True)
                if proc.returncode != 0:
                    lines = (proc.stderr or proc.stdout).strip().splitlines()
                    row[phase] = dict(error=lines[-1] if lines else f'exit {proc.returncode}')
                    print(f'  failed: {row[phase]["error"]}', flush=True)
                    continue
                with open(out) as f:
                    measured = json.load(f)
                row[phase] = measured[phase]
                for key in ('flops', 'flops_error'):
                    if key in measured:
                        row[phase][key] = measured[key]
                row.setdefault('env', measured['env'])
            rows.append(row)
    return rows


def _cell(row: dict, phase: str, key: str) -> str:
    r = row.get(phase, {})
    if 'skipped' in r:
        return '–'
    if 'error' in r:
        return 'failed'
    if key == 's_per_iter':
        return f'{1 / r["iter_per_s"]:.3f}'
    if key == 'samples_per_s':
        return f'{r["samples_per_s"]:.1f}'
    if key == 'latency_ms':
        return f'{r["latency_ms"]["mean"]:.1f}'
    if key == 'peak_memory_mib':
        return f'{r["peak_memory_mib"]:.0f}'
    if key == 'utilisation':
        return _utilisation(r)
    return f'{r["graphs_warmup"]} / {r["graphs_timed"]}'


def format_markdown(rows: List[dict], args) -> str:
    """The table as Markdown, with the command, the environment and the errors under it."""
    header = ('| method | size | variant | train s/iter | train samples/s | inference ms/batch '
              '| peak mem MiB (train / inference) | graphs warm-up / timed (train; inference) |')
    if args.flops:
        header += ' GFLOP/s, % of peak (train; inference) |'
    lines = [header, '|' + ' --- |' * (9 if args.flops else 8)]
    notes = []
    for row in rows:
        lines.append(
            f'| {row["method"]} | {row["size"]} | {row["variant"]} '
            f'| {_cell(row, "train", "s_per_iter")} | {_cell(row, "train", "samples_per_s")} '
            f'| {_cell(row, "inference", "latency_ms")} '
            f'| {_cell(row, "train", "peak_memory_mib")} / '
            f'{_cell(row, "inference", "peak_memory_mib")} '
            f'| {_cell(row, "train", "graphs")}; {_cell(row, "inference", "graphs")} |' +
            (f' {_cell(row, "train", "utilisation")}; {_cell(row, "inference", "utilisation")} |'
             if args.flops else ''))
        for phase in ('train', 'inference'):
            r = row.get(phase, {})
            if 'flops_error' in r:
                notes.append(f'* {row["method"]} {row["size"]} {row["variant"]} {phase}: FLOPs '
                             f'not counted ({r["flops_error"]})')
            if 'error' in r or r.get('skipped', 'training-free') != 'training-free':
                notes.append(f'* {row["method"]} {row["size"]} {row["variant"]} {phase}: '
                             f'{r.get("error") or r.get("skipped")}')
    if args.flops:
        peaks = {}
        for row in rows:
            for phase in ('train', 'inference'):
                f = row.get(phase, {}).get('flops')
                if f:
                    peaks.setdefault(f['peak_dtype'], []).append(f['peak_per_s'] / 1e9)
        measured = ', '.join(f'{dtype} {min(v):.0f}-{max(v):.0f}' if min(v) < max(v) else
                             f'{dtype} {v[0]:.0f}' for dtype, v in sorted(peaks.items()))
        notes.append('* GFLOP/s: forward FLOPs per sample (get_flops.py, one multiply-add = one '
                     f'FLOP; training x{TRAIN_FLOPS_FACTOR}) over the step time; % of the '
                     'GFLOP/s of a 2048 x 2048 matrix product measured in the same process, '
                     f'precision and threads (GFLOP/s: {measured})')
    env = next((row['env'] for row in rows if 'env' in row), None)
    head = [f'`{" ".join(["python", "tools/analysis_tools/benchmark.py"] + _argv_of(args))}`', '']
    if env is not None:
        head += [f'{env["device"]} ({env["device_name"]}), torch {env["torch"]}, '
                 f'{env["torch_threads"]} threads; {args.num_iters} timed iterations after '
                 f'{args.warmup} warm-up per phase', '']
    return '\n'.join(head + lines + ([''] + notes if notes else [])) + '\n'


def _argv_of(args) -> List[str]:
    argv = ['--methods'] + args.methods + ['--sizes'] + args.sizes + ['--variants'] + \
        args.variants + ['--num-iters', str(args.num_iters), '--warmup', str(args.warmup),
                         '--device', args.device] + (['--flops'] if args.flops else [])
    if args.train_batch_size:
        argv += ['--train-batch-size', str(args.train_batch_size)]
    if args.mode != 'both':
        argv += ['--mode', args.mode]
    return argv + (['--markdown', args.markdown] if args.markdown else [])


def run_tool(name: str, argv: List[str]):
    """Run the specialised benchmark ``name`` of :data:`TOOLS` with its own arguments."""
    import importlib
    module = importlib.import_module(TOOLS[name][0])
    sys.argv = [f'benchmark.py {name}'] + list(argv)  # its --help shows how it was called
    return module.main(list(argv))


def main(argv: Optional[List[str]] = None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in TOOLS:
        return run_tool(argv[0], argv[1:])
    args = parse_args(argv)
    if args.methods is not None:
        if any(size != 'toy' for size in args.sizes):
            check_shapesworld(osp.join(REPO_ROOT, 'data', 'shapesworld'))
        rows = run_table(args)
        table = format_markdown(rows, args)
        print(table)
        if args.markdown:
            os.makedirs(osp.dirname(osp.abspath(args.markdown)), exist_ok=True)
            with open(args.markdown, 'w') as f:
                f.write(table)
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(rows, f, indent=2)
        return rows
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options)
    if args.shapesworld:
        check_shapesworld(args.shapesworld)
        on_shapesworld(cfg, args.shapesworld)
    if 'log_level' not in (args.cfg_options or {}):
        cfg.log_level = 'WARNING'  # keep the runner's start-up report out of the table
    # as tools/train.py and tools/test.py do on the CPU (MMGV_KEEP_FREED_MEMORY=0: glibc's
    # default allocator, for comparison)
    kept = args.device == 'cpu' and keep_freed_host_memory()
    result = benchmark(cfg, args.mode, args.num_iters, args.warmup, args.device, args.amp,
                       args.compile)
    result['env']['keep_freed_host_memory'] = kept
    if args.flops:
        try:
            add_utilisation(result, cfg, args.device)
        except Exception as err:  # the timings stand without the FLOP count
            result['flops_error'] = f'{type(err).__name__}: {err}'.splitlines()[0]
            print(f'--flops: the FLOPs were not counted ({result["flops_error"]})')
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
