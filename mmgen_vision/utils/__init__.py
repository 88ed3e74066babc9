# Copyright (c) mmgen_vision contributors. All rights reserved.
from .checkpoint import (CheckpointError, UnsafeCheckpointError, checkpoint_safe_globals,
                         install_safe_checkpoint_loader, load_local_checkpoint)
from .collect_env import benchmark_environment, collect_env
from .config_check import (ConfigKeyError, check_override_keys, check_top_level_keys,
                           load_config, set_work_dir)
from .launch import enable_amp, prepare_distributed
from .panoptic import id_to_rgb, install_panopticapi_fallback, rgb_to_id
from .setup_env import register_all_modules

# torch >= 2.6 loads with weights_only=True: make MMEngine's loader use our allow-list at once.
install_safe_checkpoint_loader()
# panopticapi is not on PyPI: mmdet's panoptic loader and metric get our fallback if it is missing.
install_panopticapi_fallback()

__all__ = [
    'CheckpointError', 'UnsafeCheckpointError', 'checkpoint_safe_globals',
    'install_safe_checkpoint_loader', 'load_local_checkpoint', 'collect_env',
    'benchmark_environment', 'ConfigKeyError', 'check_override_keys', 'check_top_level_keys',
    'load_config', 'set_work_dir', 'prepare_distributed', 'enable_amp', 'register_all_modules',
    'id_to_rgb', 'rgb_to_id', 'install_panopticapi_fallback'
]
