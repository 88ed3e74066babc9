# Copyright (c) mmgen_vision contributors. All rights reserved.
from typing import Callable, Union

from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from mmgen_vision.engine.hooks.class_check import ClassConsistencyHook
from mmgen_vision.engine.runner.epoch_restart import skip_restart_pause
from mmgen_vision.registry import RUNNERS
from mmgen_vision.utils.checkpoint import (CheckpointMismatchError, check_state_dict_matches,
                                           state_dict_of)
from mmgen_vision.utils.compile import (compile_model_steps, compile_options,
                                        eager_update_params, plain_param_groups)

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

    With ``compile`` in the config (``True`` or ``torch.compile`` options), ``val_step`` and
    ``test_step`` are compiled as well as MMEngine's ``train_step``, and the optimizer gets
    plain-``dict`` parameter groups that Dynamo can trace (:mod:`mmgen_vision.utils.compile`).
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

    def build_optim_wrapper(self, optim_wrapper):
        optim_wrapper = super().build_optim_wrapper(optim_wrapper)
        optimizers = getattr(optim_wrapper, 'optim_wrappers', {'': optim_wrapper})
        for wrapper in optimizers.values():  # OptimWrapperDict holds one wrapper per module
            plain_param_groups(wrapper.optimizer)
        if compile_options(self.cfg.get('compile')) is not None:
            eager_update_params(optim_wrapper)
        return optim_wrapper

    def _maybe_compile(self, target: str) -> None:
        """Compile ``model.<target>`` once with the config's ``compile`` options (MMEngine
        calls it for ``train_step``); the data preprocessor stays eager
        (:func:`~mmgen_vision.utils.compile.eager_data_preprocessor`)."""
        if compile_options(self.cfg.get('compile')) is not None:
            compile_model_steps(self.model, (target, ), self.cfg.get('compile'))
            self.logger.info(f'{target} is compiled with torch.compile '
                             f'({self.cfg.compile}); the first iterations are slow')

    def build_train_loop(self, loop):
        """The stock loop; an iteration-based one whose dataloader has no worker processes
        restarts it without MMEngine's 2 s pause (:func:`skip_restart_pause`)."""
        loop = super().build_train_loop(loop)
        skip_restart_pause(loop)
        return loop

    def train(self):
        self._maybe_compile('val_step')
        return super().train()

    def val(self) -> dict:
        self._maybe_compile('val_step')
        return super().val()

    def test(self) -> dict:
        self._maybe_compile('test_step')
        return super().test()
