# Copyright (c) mmgen_vision contributors. All rights reserved.
from .class_check import (ClassConsistencyHook, ClassMismatchError, check_classes,
                          check_model_classes, check_painter_codecs)

__all__ = ['ClassConsistencyHook', 'ClassMismatchError', 'check_classes', 'check_model_classes',
           'check_painter_codecs']
