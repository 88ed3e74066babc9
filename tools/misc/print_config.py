# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Print the fully resolved config: ``_base_`` files merged and ``--cfg-options`` applied.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save-path out.py]

The keys are validated exactly as tools/train.py validates them (see
``mmgen_vision.utils.config_check``): an override whose parent path does not exist, a new key
next to a close existing one (``mdoe`` beside ``mode``), or a top-level key that the runner does
not read (a misspelt runner key, or a config variable such as ``max_iters`` whose uses were
already resolved) is an error naming the key and the setting to change instead. ``--save-path`` writes the resolved config as .py, .json, .yml or .yaml.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.utils import (  # noqa: E402
    ConfigKeyError, load_config)

SAVE_SUFFIXES = ('.py', '.json', '.yml', '.yaml')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the fully resolved config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--save-path', help=f'also save it to this file ({", ".join(SAVE_SUFFIXES)})')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    args = parser.parse_args(argv)
    if args.save_path is not None and not args.save_path.endswith(SAVE_SUFFIXES):
        parser.error(f'--save-path must end with one of {SAVE_SUFFIXES}, got {args.save_path}')
    return args


def main(argv: Optional[List[str]] = None) -> Config:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
    except ConfigKeyError as err:
        raise SystemExit(f'print_config.py: error: {err}') from err
    print(f'Config:\n{cfg.pretty_text}')
    if args.save_path is not None:
        save_dir = osp.dirname(osp.abspath(args.save_path))
        os.makedirs(save_dir, exist_ok=True)
        cfg.dump(args.save_path)
        print(f'Config saved to {args.save_path}')
    return cfg


if __name__ == '__main__':
    main()
