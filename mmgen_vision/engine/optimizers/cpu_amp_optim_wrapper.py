# Copyright (c) mmgen_vision contributors. All rights reserved.
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast

from mmgen_vision.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: forward under ``torch.autocast('cpu', bfloat16)``.

    MMEngine's ``AmpOptimWrapper`` refuses to start without an accelerator. bfloat16 keeps
    float32's exponent range, so no loss scaling is needed and the rest of the wrapper
    (backward, step, gradient clipping, accumulation) is the plain ``OptimWrapper``.
    ``tools/train.py --amp`` picks this wrapper when CUDA is not available.

    Args:
        dtype (str): Autocast dtype, ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f'CPUAmpOptimWrapper: dtype must be bfloat16 or float16, got {dtype}')
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), autocast(device_type='cpu', dtype=self.cast_dtype):
            yield
