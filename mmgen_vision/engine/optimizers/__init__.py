# Copyright (c) mmgen_vision contributors. All rights reserved.
from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper']
