# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Safe checkpoint loading for torch >= 2.6 (``weights_only=True``).

MMEngine 0.10.7 calls ``torch.load(path)``; since torch 2.6 that unpickles with
``weights_only=True`` and fails on the non-tensor objects MMEngine itself writes into
checkpoints (``UnpicklingError ... HistoryBuffer``), so ``--resume`` breaks. We never turn
``weights_only`` off. Instead the local-file (and s3/petrel) schemes of MMEngine's
``CheckpointLoader`` are replaced by :func:`safe_torch_load`, which allow-lists exactly the types
an MMEngine checkpoint holds:

* ``mmengine.logging.HistoryBuffer`` (message hub log scalars). Its instances pickle their table
  of statistics methods as ``getattr(HistoryBuffer, 'mean')``; ``getattr`` is *not* allowed in
  general: a restricted stand-in resolves only the registered statistics of ``HistoryBuffer``,
* ``mmengine.config.ConfigDict`` (dataset meta, configs stored in ``meta``),
* numpy arrays, dtypes and scalars (history buffers, runtime info).

Containers, tensors and primitive types are allowed by torch already. A checkpoint holding any
other global is refused with :class:`UnsafeCheckpointError`, which names the file and the globals.

:func:`check_state_dict_matches` refuses the weights of another model (used by the
``CheckedRunner`` of the engine and by the Inferencers, so it lives at this lowest layer).
"""
import io
import os.path as osp
import pickle
import re
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine import fileio
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class CheckpointError(RuntimeError):
    """A checkpoint could not be loaded; the message names the file and why."""


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint contains pickled objects outside the allow-list."""


def _numpy_globals() -> List[Callable]:
    """Everything numpy needs to rebuild arrays, dtypes and scalars from a pickle."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtype_classes = [
        getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')
        and isinstance(getattr(np.dtypes, name), type)
    ]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype] + dtype_classes


BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')


#: Where torch's weights-only error turns from the cause to advice that we do not pass on
#: (re-running with ``weights_only=False``, or allow-listing the global "if you trust" it).
_TORCH_ADVICE = ('This file can still be loaded', 'Please use', 'Check the documentation',
                 'In PyTorch 2.6', 'Re-running `torch.load`')


def _unpickler_reason(err: Exception) -> str:
    """The cause in torch's weights-only error message, without torch's advice."""
    text = str(err)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    for advice in _TORCH_ADVICE:
        text = text.split(advice, 1)[0]
    return ' '.join(text.split()).rstrip('. ') or type(err).__name__


def history_buffer_statistic(owner: type, name: str) -> Callable:
    """Stand-in for ``getattr`` while unpickling: only ``HistoryBuffer``'s statistics.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    # the table is filled by the first HistoryBuffer() of a process, so name the built-ins too
    if owner is HistoryBuffer and (name in BUILTIN_STATISTICS
                                   or name in HistoryBuffer._statistics_methods):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({getattr(owner, "__name__", type(owner).__name__)}, {name!r}) is not allowed: '
        'only the statistics methods of mmengine HistoryBuffer may be resolved')


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allow-list of globals an MMEngine checkpoint may contain."""
    return [HistoryBuffer, ConfigDict, (history_buffer_statistic, 'builtins.getattr')
            ] + _numpy_globals()


def _safe_global_names() -> set:
    return {
        item[1] if isinstance(item, tuple) else f'{item.__module__}.{item.__qualname__}'
        for item in checkpoint_safe_globals()
    }


def _is_empty(source: Union[str, io.BytesIO]) -> bool:
    if isinstance(source, io.BytesIO):
        return source.getbuffer().nbytes == 0
    return osp.getsize(source) == 0


def safe_torch_load(source: Union[str, io.BytesIO], name: str,
                    map_location: Optional[Union[str, Callable]] = None) -> dict:
    """``torch.load(source, weights_only=True)`` with the MMEngine allow-list.

    Args:
        source (str | BytesIO): A local path or the checkpoint's bytes.
        name (str): How the checkpoint is named in errors (its path or URI).
        map_location (str | callable, optional): As in :func:`torch.load`.

    Raises:
        UnsafeCheckpointError: It holds objects outside :func:`checkpoint_safe_globals`.
        CheckpointError: It is empty or not a readable torch checkpoint (truncated, wrong
            format).
    """
    if _is_empty(source):
        raise CheckpointError(f'Cannot read checkpoint {name}: the file is empty.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            if isinstance(source, io.BytesIO):
                source.seek(0)
            found = torch.serialization.get_unsafe_globals_in_checkpoint(source)
        except Exception:  # legacy (non-zip) format: fall back to torch's message
            found = []
        refused = sorted(set(found) - _safe_global_names())
        detail = ', '.join(refused) if refused else _unpickler_reason(err)
        # not chained: torch's message adds only the advice to load with weights_only=False
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {name}: it contains pickled objects that are not '
            f'on the allow-list of MMEngine checkpoint types ({detail}). Only tensors, containers, '
            'numpy arrays/scalars, HistoryBuffer and ConfigDict are loaded; re-save the state '
            'dict of a trusted checkpoint with plain tensors to use it.') from None
    except (RuntimeError, EOFError, OSError, KeyError, ValueError, IndexError) as err:
        # e.g. a file that is not a checkpoint at all: ``KeyError: 101`` from the unpickler
        reason = f'{type(err).__name__}: {err}'.rstrip(': .')
        raise CheckpointError(
            f'Cannot read checkpoint {name}: {reason}. The file is truncated or is not a '
            'checkpoint saved by torch.save.') from err


def load_local_checkpoint(filename: str,
                          map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Load a local checkpoint safely (see :func:`safe_torch_load`).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} can not be found.')
    return safe_torch_load(filename, filename, map_location)


def load_backend_checkpoint(filename: str,
                            map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Load a checkpoint from an MMEngine file backend (``s3://``, ``petrel://``) safely."""
    return safe_torch_load(io.BytesIO(fileio.get(filename)), filename, map_location)


def install_safe_checkpoint_loader() -> None:
    """Route MMEngine's checkpoint loading of local and file-backend paths through
    :func:`safe_torch_load`.

    Idempotent. Affects ``load_checkpoint``, ``Runner.load_checkpoint`` and ``Runner.resume``.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('s3://', 'petrel://'), loader=load_backend_checkpoint, force=True)


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's weights do not belong to the model being loaded."""


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights of a loaded checkpoint: its ``state_dict`` / ``model`` entry, or itself."""
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
