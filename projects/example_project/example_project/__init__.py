# Copyright (c) mmgen_vision contributors. All rights reserved.
from .separable_head import SeparableConvHead

__all__ = ['SeparableConvHead']
