# Copyright (c) mmgen_vision contributors. All rights reserved.
from .checkpoint import (CheckpointError, UnsafeCheckpointError, checkpoint_safe_globals,
                         install_safe_checkpoint_loader, load_local_checkpoint)
from .collect_env import benchmark_environment, collect_env
from .config_check import (ConfigKeyError, check_override_keys, check_top_level_keys,
                           load_config, set_work_dir)
from .image_io import (ImageNotFoundError, ImageReadError, expand_image_inputs,
                       image_array_to_uint8, read_image, read_image_file)
from .launch import enable_amp, prepare_distributed
from .panoptic import id_to_rgb, install_panopticapi_fallback, rgb_to_id
from .safe_load import (PickleFileError, RestrictedUnpickler, UnsafePickleError,
                        install_safe_pickle_handler, safe_pickle_load)
from .setup_env import register_all_modules

# torch >= 2.6 loads with weights_only=True: make MMEngine's loader use our allow-list at once.
install_safe_checkpoint_loader()
# pickled data files (e.g. mmdet.RefCocoDataset's split file via mmengine.load) are unpickled with
# the restricted unpickler: builtin containers and scalars only.
install_safe_pickle_handler()
# panopticapi is not on PyPI: mmdet's panoptic loader and metric get our fallback if it is missing.
install_panopticapi_fallback()

__all__ = [
    'CheckpointError', 'UnsafeCheckpointError', 'checkpoint_safe_globals',
    'install_safe_checkpoint_loader', 'load_local_checkpoint', 'collect_env',
    'benchmark_environment', 'ConfigKeyError', 'check_override_keys', 'check_top_level_keys',
    'load_config', 'set_work_dir', 'prepare_distributed', 'enable_amp', 'register_all_modules',
    'id_to_rgb', 'rgb_to_id', 'install_panopticapi_fallback', 'PickleFileError',
    'RestrictedUnpickler', 'UnsafePickleError', 'install_safe_pickle_handler', 'safe_pickle_load'
]
__all__ += ['ImageReadError', 'ImageNotFoundError', 'read_image', 'read_image_file',
            'image_array_to_uint8', 'expand_image_inputs']
