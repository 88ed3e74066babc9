# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Catch misspelt config keys before they are silently ignored.

MMEngine's ``Runner.from_cfg`` ignores unknown top-level keys and ``--cfg-options`` creates any
key path it is given, so ``trian_cfg=...`` or ``model.bakcbone.depth=50`` would train with the
defaults without a word. These checks turn both into errors that name the key.
"""
import difflib
import os.path as osp
from typing import Iterable, Mapping, Optional

from mmengine.config import Config

#: Top-level keys that ``Runner.from_cfg`` (or the tools) consume.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
    'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'runner_type', 'model_wrapper_cfg',
    'find_unused_parameters', 'custom_imports', 'tta_model', 'tta_pipeline', 'compile',
    'strategy', 'cfg')


#: Helper variables OpenMMLab configs conventionally define next to the runner keys.
CONVENTIONAL_VARIABLES = (
    'train_pipeline', 'val_pipeline', 'test_pipeline', 'dataset_type', 'data_root',
    'backend_args', 'norm_cfg', 'crop_size', 'img_scale', 'img_size', 'max_iters', 'max_epochs',
    'warmup_iters', 'warmup_epochs', 'vis_backends', 'num_classes', 'metainfo', 'train_dataset',
    'val_dataset', 'test_dataset', 'file_client_args', 'base_lr', 'batch_size', 'work_dir')


class ConfigKeyError(KeyError):
    """A config key is unknown; the message names it and suggests the closest known key."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0])


def _suggest(key: str, candidates: Iterable[str]) -> Optional[str]:
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.8)
    return close[0] if close else None


def check_top_level_keys(cfg: Config, filename: str = '') -> None:
    """Refuse top-level keys that look like misspellings of the runner's keys.

    Configs legitimately define helper variables (``data_root``, ``train_pipeline``...), so only
    a key that is neither a runner key nor a conventional variable (nor starts with ``_``) but is
    within a small edit distance of a runner key is refused.

    Raises:
        ConfigKeyError: e.g. ``Unknown config key 'trian_cfg' in x.py (did you mean 'train_cfg'?)``.
    """
    where = f' in {filename}' if filename else ''
    for key in cfg.keys():
        if key in RUNNER_KEYS or key in CONVENTIONAL_VARIABLES or key.startswith('_'):
            continue
        suggestion = _suggest(key, RUNNER_KEYS)
        if suggestion is not None:
            raise ConfigKeyError(f"Unknown config key '{key}'{where} (did you mean "
                                 f"'{suggestion}'?). The runner would silently ignore it; a "
                                 "variable of your own may be prefixed with '_'.")


def check_override_keys(cfg: Config, options: Optional[Mapping]) -> None:
    """Refuse ``--cfg-options`` whose parent path does not exist in the config.

    ``model.backbone.depth=18`` is accepted when ``model.backbone`` is a dict of the config (the
    class then validates ``depth``); ``model.bakcbone.depth=18`` is refused.

    Raises:
        ConfigKeyError: naming the first missing component and the closest existing key.
    """
    for dotted in options or {}:
        parts = dotted.split('.')
        node, path = cfg.to_dict(), []
        for part in parts[:-1]:
            path.append(part)
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise ConfigKeyError(f"--cfg-options key '{dotted}': index {part} is out of "
                                         f"range for '{'.'.join(path[:-1])}' (length "
                                         f'{len(node)}).')
                node = node[int(part)]
                continue
            if not isinstance(node, Mapping) or part not in node:
                keys = list(node.keys()) if isinstance(node, Mapping) else []
                suggestion = _suggest(part, keys)
                hint = f" (did you mean '{suggestion}'?)" if suggestion else ''
                raise ConfigKeyError(f"--cfg-options key '{dotted}': '{'.'.join(path)}' does "
                                     f'not exist in the config{hint}.')
            node = node[part]


def load_config(filename: str, cfg_options: Optional[Mapping] = None) -> Config:
    """Load a config, apply ``--cfg-options`` and validate the keys, as every tool does.

    Args:
        filename (str): Config file path.
        cfg_options (Mapping, optional): Dotted overrides (``DictAction`` output).

    Raises:
        ConfigKeyError: A misspelt top-level key or an override of a path that does not exist.
    """
    cfg = Config.fromfile(filename)
    check_override_keys(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_top_level_keys(cfg, filename)
    return cfg


def set_work_dir(cfg: Config, work_dir: Optional[str], filename: str) -> Config:
    """``--work-dir`` if given, else the config's ``work_dir``, else ``./work_dirs/<name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(filename))[0])
    return cfg
