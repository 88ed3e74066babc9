# Copyright (c) mmgen_vision contributors. All rights reserved.
import re
from typing import Callable, Dict, List, Union

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

from mmgen_vision.engine.hooks.class_check import ClassConsistencyHook
from mmgen_vision.registry import RUNNERS
from mmgen_vision.utils.checkpoint import CheckpointError


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not belong to the model being loaded."""


def _state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    return checkpoint


def _preview(keys: List[str], limit: int = 5) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in total)' if len(keys) > limit else '')


def check_state_dict_matches(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                             filename: str, revise_keys: list = (), strict: bool = False) -> None:
    """Raise :class:`CheckpointMismatchError` when ``state_dict`` was not saved from ``model``.

    A checkpoint is refused when it shares no parameter name with the model, or when a shared
    name has a different shape (the weights of another architecture or size); with ``strict``
    any missing or unexpected key is refused too. Partial checkpoints (a pre-trained backbone in
    a bigger model) pass with ``strict=False``.

    Args:
        model (nn.Module): The (unwrapped) model.
        state_dict (dict[str, Tensor]): Weights from the checkpoint.
        filename (str): Checkpoint path, for the message.
        revise_keys (list[tuple[str, str]]): Regex substitutions applied to checkpoint keys.
        strict (bool): Also refuse missing and unexpected keys.
    """
    revised = {}
    for key, value in state_dict.items():
        for pattern, repl in revise_keys:
            key = re.sub(pattern, repl, key)
        revised[key] = value
    expected = model.state_dict()
    name = type(model).__name__
    common = [k for k in revised if k in expected]
    if revised and not common:
        raise CheckpointMismatchError(
            f'Checkpoint {filename} does not match the model {name}: none of its '
            f'{len(revised)} keys ({_preview(list(revised))}) is a parameter of the model, '
            f'which expects {_preview(list(expected))}.')
    mismatched = [
        f'{k}: checkpoint {tuple(revised[k].shape)} vs model {tuple(expected[k].shape)}'
        for k in common if hasattr(revised[k], 'shape') and revised[k].shape != expected[k].shape
    ]
    if mismatched:
        raise CheckpointMismatchError(
            f'Checkpoint {filename} does not match the model {name}: {len(mismatched)} '
            f'parameters have other shapes ({_preview(mismatched, 3)}). It was saved from '
            'another architecture or size; use the right config or a converter in '
            'tools/model_converters/.')
    if strict:
        missing = [k for k in expected if k not in revised and 'num_batches_tracked' not in k]
        unexpected = [k for k in revised if k not in expected]
        if missing or unexpected:
            raise CheckpointMismatchError(
                f'Checkpoint {filename} does not match the model {name} strictly: missing '
                f'[{_preview(missing)}], unexpected [{_preview(unexpected)}].')


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
        check_state_dict_matches(model, _state_dict_of(checkpoint), filename, revise_keys, strict)
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
