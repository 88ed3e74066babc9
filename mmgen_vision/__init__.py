# Copyright (c) mmgen_vision contributors. All rights reserved.
import mmengine
from mmengine.utils import digit_version

from .version import __version__, version_info

MMENGINE_MIN, MMENGINE_MAX = '0.10.0', '1.0.0'
_mmengine_version = digit_version(mmengine.__version__)
if not digit_version(MMENGINE_MIN) <= _mmengine_version < digit_version(MMENGINE_MAX):
    raise ImportError(f'mmgen_vision {__version__} needs {MMENGINE_MIN} <= mmengine < '
                      f'{MMENGINE_MAX}, found mmengine {mmengine.__version__}. '
                      'Run tools/setup_env.sh to install the pinned stack.')

from . import utils  # noqa: E402  (registers; patches nothing: see utils.setup_compat)

__all__ = ['__version__', 'version_info', 'utils']
