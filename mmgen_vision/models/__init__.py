# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Models of the five methods (one sub-package each) and the pieces they share (``common/``,
``codecs/``). Importing this package registers them in the ``mmgen_vision`` scope."""
from .codecs import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .glid import *  # noqa: F401,F403
from .groupvit import *  # noqa: F401,F403
from .painter import *  # noqa: F401,F403
from .peekaboo import *  # noqa: F401,F403
from .xdecoder import *  # noqa: F401,F403
