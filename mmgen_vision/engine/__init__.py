# Copyright (c) mmgen_vision contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
from .painter_optim import LayerDecayOptimWrapperConstructor  # noqa: F401
from .painter_prompt_search import PainterPromptSearchLoop  # noqa: F401
from .test_time_optimization import (MaskEvolutionWriter,  # noqa: F401
                                     TestTimeOptimizationLoop)
