# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Evaluate a checkpoint with the config's test dataloader and evaluator.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                         [--show-dir DIR] [--show] [--tta] [--amp] [--compile [BACKEND]]
                         [--cfg-options k=v ...] [--launcher ...]

``--amp`` runs the test steps under autocast (``test_cfg.fp16``: bfloat16 on CPU, float16 on
CUDA; MMEngine's ``TestLoop`` only). ``--compile`` compiles ``model.test_step`` with
``torch.compile`` (runner setting ``compile``; inductor unless a backend is named).

CHECKPOINT may be ``none`` only for training-free models (their class sets
``training_free = True``, e.g. Peekaboo's segmentor); any other model would be evaluated with
random weights, so it is refused.
"""
import argparse
import inspect
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.realpath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.registry import MODELS, RUNNERS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    close_distributed, enable_compile, keep_freed_host_memory, load_config, prepare_distributed,
    register_all_modules, set_work_dir, warn_if_bf16_emulated)


#: What ``--out`` writes: MMEngine's ``DumpResults`` pickles the predictions.
OUT_SUFFIXES = ('.pkl', '.pickle')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help="checkpoint file; 'none' for training-free models (e.g. Peekaboo) whose weights "
        'come from their config')
    parser.add_argument('--work-dir', help='the directory to save the evaluation metrics')
    parser.add_argument(
        '--out', help=f'dump the predictions to a pickle file ({", ".join(OUT_SUFFIXES)})')
    parser.add_argument('--show-dir', help='directory where painted predictions are saved')
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--wait-time', type=float, default=2, help='interval of --show (s)')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    parser.add_argument(
        '--amp', action='store_true',
        help='test under autocast (test_cfg.fp16; bfloat16 on CPU, float16 on CUDA)')
    parser.add_argument(
        '--compile', nargs='?', const='inductor', metavar='BACKEND',
        help='torch.compile the test step (runner setting compile=True); the backend defaults '
        'to inductor')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if args.out is not None and not args.out.endswith(OUT_SUFFIXES):
        parser.error(f'--out must name a pickle file ending with {" or ".join(OUT_SUFFIXES)} '
                     f'(the predictions are pickled), got {args.out}')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args) -> Config:
    """Turn on the config's visualization hook for --show / --show-dir."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise RuntimeError('--show / --show-dir need default_hooks.visualization in the config '
                           '(e.g. mmseg.SegVisualizationHook, mmdet.DetVisualizationHook)')
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook_cls = HOOKS.get(hook['type'])
        params = inspect.signature(hook_cls).parameters if hook_cls is not None else {}
        if 'test_out_dir' in params:
            hook['test_out_dir'] = osp.abspath(args.show_dir)
        else:  # visualizers with a LocalVisBackend write under save_dir
            cfg.visualizer['save_dir'] = args.show_dir
        # every test image asked for is painted (the stock hooks default to 1 batch in 50)
        if 'interval' in params:
            hook['interval'] = 1
    return cfg


def check_training_free(cfg: Config, checkpoint: str) -> None:
    """Refuse ``none`` as the checkpoint unless the model class declares ``training_free``.

    Raises:
        SystemExit: The model learns weights (or its type is not registered): without a
            checkpoint it would be evaluated with random weights.
    """
    if cfg.get('custom_imports'):  # a project's model registers itself on import
        import_modules_from_strings(**cfg.custom_imports)
    model_type = cfg.model.get('type')
    scope = cfg.model.get('_scope_') or cfg.get('default_scope')
    with MODELS.switch_scope_and_registry(scope) as registry:
        model_cls = registry.get(model_type) if isinstance(model_type, str) else model_type
    if model_cls is None:
        raise SystemExit(f'test.py: error: model type {model_type!r} of {cfg.filename} is not '
                         'registered, so it cannot be tested.')
    if not getattr(model_cls, 'training_free', False):
        raise SystemExit(
            f'test.py: error: checkpoint {checkpoint!r} is only for training-free models '
            '(e.g. PeekabooSegmentor), whose weights come from their config. '
            f'{model_cls.__name__} (model.type={model_type!r}) learns its weights: without a '
            'checkpoint it would be evaluated with random weights. Pass the checkpoint file.')


def build_cfg(args) -> Config:
    cfg = load_config(args.config, args.cfg_options)
    if args.checkpoint.lower() == 'none':
        check_training_free(cfg, args.checkpoint)
        cfg.load_from = None
    else:
        cfg.load_from = args.checkpoint
    cfg.launcher = args.launcher
    prepare_distributed(cfg, args.launcher)
    set_work_dir(cfg, args.work_dir, args.config)
    if args.show or args.show_dir:
        trigger_visualization_hook(cfg, args)
    if getattr(args, 'amp', False):
        loop = cfg.get('test_cfg') or {}
        if loop.get('type', 'TestLoop') not in ('TestLoop', 'mmengine.TestLoop'):
            raise RuntimeError(f'--amp sets test_cfg.fp16 of MMEngine\'s TestLoop; this config '
                               f'tests with {loop["type"]}')
        cfg.test_cfg = dict(loop, fp16=True)
        if not torch.cuda.is_available():
            warn_if_bf16_emulated()
    if getattr(args, 'compile', None):
        enable_compile(cfg, args.compile)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise RuntimeError('--tta needs tta_model and tta_pipeline in the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    return cfg


def main():
    args = parse_args()
    if not torch.cuda.is_available():
        keep_freed_host_memory()  # a CPU run reuses its freed tensors (same numbers, faster)
    register_all_modules(init_default_scope=False)
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    runner.test()
    close_distributed()


if __name__ == '__main__':
    main()
