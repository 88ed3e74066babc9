# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Train a model from a config (OpenMMLab conventions).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|CKPT]] [--amp]
                                 [--compile [BACKEND]] [--cfg-options k=v ...]
                                 [--launcher none|pytorch|slurm|mpi] [--max-iters N]

``--compile`` sets the runner's ``compile`` setting: ``torch.compile`` of the model's
``train_step`` and ``val_step`` (inductor unless a backend is named; see
:mod:`mmgen_vision.utils.compile`).

``--max-iters N`` shortens (or lengthens) an iteration-based schedule as a whole: it sets
``train_cfg.max_iters`` and rescales every scheduler's ``begin`` / ``end`` / ``T_max`` /
``milestones``, the validation interval and the final checkpoint with it
(:func:`mmgen_vision.utils.schedule.scale_schedule`).
"""
import argparse
import logging
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.realpath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.registry import RUNNERS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    close_distributed, enable_amp, enable_compile, keep_freed_host_memory, load_config,
    prepare_distributed, register_all_modules, set_work_dir)
from mmgen_vision.utils.schedule import scale_schedule, unscaled_schedulers  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint; without a path, resume from the latest '
        'checkpoint in the work dir (auto)')
    parser.add_argument('--amp', action='store_true', help='enable mixed precision training')
    parser.add_argument(
        '--compile', nargs='?', const='inductor', metavar='BACKEND',
        help='torch.compile the train and val steps (runner setting compile=True); the '
        'backend defaults to inductor')
    parser.add_argument(
        '--max-iters',
        type=int,
        help='train for N iterations and rescale the schedule with them (schedulers\' '
        'begin/end/T_max/milestones, val_interval, final checkpoint) by N / train_cfg.max_iters; '
        'the switch for short runs (--cfg-options train_cfg.max_iters=N alone leaves the '
        'schedulers on the config\'s length)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='scale the lr by the total batch size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value (xxx=yyy), nested keys with dots '
        '(model.backbone.depth=18), lists as a=[1,2] or a=1,2')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank / --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args) -> Config:
    """Load the config, validate its keys and apply the command-line switches."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    prepare_distributed(cfg, args.launcher)

    set_work_dir(cfg, args.work_dir, args.config)

    if getattr(args, 'max_iters', None) is not None:
        for change in scale_schedule(cfg, args.max_iters):
            print_log(f'--max-iters: {change}', logger='current')
    else:
        late = unscaled_schedulers(cfg)
        if late is not None:
            print_log(late, logger='current', level=logging.WARNING)

    if args.amp:
        enable_amp(cfg)
    if getattr(args, 'compile', None):
        enable_compile(cfg, args.compile)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main():
    args = parse_args()
    if not torch.cuda.is_available():
        keep_freed_host_memory()  # a CPU run reuses its freed tensors (same numbers, faster)
    register_all_modules(init_default_scope=False)
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()
    close_distributed()


if __name__ == '__main__':
    main()
