# Copyright (c) mmgen_vision contributors. All rights reserved.
from typing import Callable, Union

from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from mmgen_vision.engine.hooks.class_check import ClassConsistencyHook
from mmgen_vision.registry import RUNNERS
from mmgen_vision.utils.checkpoint import (CheckpointMismatchError, check_state_dict_matches,
                                           state_dict_of)

__all__ = ['CheckedRunner', 'CheckpointMismatchError', 'check_state_dict_matches']


@RUNNERS.register_module()
class CheckedRunner(Runner):
    """MMEngine ``Runner`` whose checkpoint loading refuses weights of another model.

    Stock MMEngine loads with ``strict=False`` and only logs what did not match, so a wrong
    ``load_from``/``--checkpoint`` silently evaluates or fine-tunes random weights. This runner
    checks the state dict first (see :func:`check_state_dict_matches`) for ``load_from``,
    ``--checkpoint`` in testing and ``--resume`` alike, and loads test-time-augmentation models
    (``--tta``) into the model they wrap. It also registers :class:`ClassConsistencyHook`, which
    compares the dataset's classes with every class-sized setting (heads, loss weights, codecs,
    class names) before the first iteration. Select it with
    ``runner_type = 'CheckedRunner'`` (set in ``configs/_base_/default_runtime.py``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not any(isinstance(hook, ClassConsistencyHook) for hook in self.hooks):
            self.register_hook(ClassConsistencyHook())

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if isinstance(model, BaseTTAModel):
            # a TTA model keeps the trained model in `.module`; stock MMEngine would look for
            # 'module.'-prefixed keys, find none and silently test random weights
            model = model.module
        check_state_dict_matches(model, state_dict_of(checkpoint), filename, revise_keys, strict)
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
