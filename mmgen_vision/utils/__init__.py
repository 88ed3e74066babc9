# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The lowest layer: registration, safe loading of checkpoints and data files, the image reader,
config checks and the CLIP tokenizer.

Importing this package changes nothing in other libraries; :func:`setup_compat` does, explicitly
(see :mod:`mmgen_vision.utils.compat`).
"""
from .checkpoint import (CheckpointError, CheckpointMismatchError, UnsafeCheckpointError,
                         check_state_dict_matches, checkpoint_safe_globals,
                         install_safe_checkpoint_loader, load_local_checkpoint)
from .clip_tokenizer import CLIPTokenizer
from .collect_env import benchmark_environment, collect_env
from .compat import setup_compat
from .compile import (CompileCounter, compile_model_steps, compile_options, enable_compile,
                      plain_param_groups)
from .config_check import (ConfigKeyError, check_override_keys, check_top_level_keys,
                           load_config, set_work_dir)
from .config_variables import StaleVariableError, check_variable_overrides
from .deprecation import TASK_ALIASES, TASK_NAMES, canonical_task, renamed_arguments
from .host_memory import keep_freed_host_memory
from .image_io import (ImageNotFoundError, ImageReadError, expand_image_inputs,
                       image_array_to_uint8, read_image, read_image_file)
from .launch import (close_distributed, cpu_has_bf16, enable_amp, prepare_distributed,
                     warn_if_bf16_emulated)
from .panoptic import id_to_rgb, install_panopticapi_fallback, rgb_to_id
from .safe_load import (PickleFileError, RestrictedUnpickler, UnsafePickleError,
                        install_safe_pickle_handler, safe_pickle_load)
from .setup_env import register_all_modules

__all__ = [
    'CheckpointError', 'UnsafeCheckpointError', 'checkpoint_safe_globals',
    'install_safe_checkpoint_loader', 'load_local_checkpoint', 'collect_env',
    'benchmark_environment', 'ConfigKeyError', 'check_override_keys', 'check_top_level_keys',
    'load_config', 'set_work_dir', 'prepare_distributed', 'close_distributed', 'cpu_has_bf16',
    'warn_if_bf16_emulated', 'enable_amp', 'register_all_modules',
    'id_to_rgb', 'rgb_to_id', 'install_panopticapi_fallback', 'PickleFileError',
    'RestrictedUnpickler', 'UnsafePickleError', 'install_safe_pickle_handler', 'safe_pickle_load'
]
__all__ += ['ImageReadError', 'ImageNotFoundError', 'read_image', 'read_image_file',
            'image_array_to_uint8', 'expand_image_inputs']
__all__ += ['setup_compat', 'CLIPTokenizer', 'CheckpointMismatchError', 'check_state_dict_matches']
__all__ += ['StaleVariableError', 'check_variable_overrides']
__all__ += ['renamed_arguments', 'canonical_task', 'TASK_NAMES', 'TASK_ALIASES']
__all__ += ['CompileCounter', 'compile_model_steps', 'compile_options', 'enable_compile',
            'plain_param_groups']
__all__ += ['keep_freed_host_memory']
