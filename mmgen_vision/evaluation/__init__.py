# Copyright (c) mmgen_vision contributors. All rights reserved.
from .metrics import *  # noqa: F401,F403
