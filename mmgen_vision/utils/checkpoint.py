# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Safe checkpoint loading for torch >= 2.6 (``weights_only=True``).

MMEngine 0.10.7 calls ``torch.load(path)``; since torch 2.6 that unpickles with
``weights_only=True`` and fails on the non-tensor objects MMEngine itself writes into
checkpoints (``UnpicklingError ... HistoryBuffer``), so ``--resume`` breaks. We never turn
``weights_only`` off. Instead the local-file scheme of MMEngine's ``CheckpointLoader`` is replaced
by :func:`load_local_checkpoint`, which allow-lists exactly the types an MMEngine checkpoint holds:

* ``mmengine.logging.HistoryBuffer`` (message hub log scalars),
* ``mmengine.config.ConfigDict`` (dataset meta, configs stored in ``meta``),
* numpy arrays, dtypes and scalars (history buffers, runtime info).

Containers, tensors and primitive types are allowed by torch already. A checkpoint holding any
other global is refused with :class:`UnsafeCheckpointError`, which names the file and the globals.
"""
import os.path as osp
import pickle
from typing import Callable, List, Optional, Union

import numpy as np
import torch
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


def checkpoint_safe_globals() -> List[Callable]:
    """The allow-list of globals an MMEngine checkpoint may contain."""
    return [HistoryBuffer, ConfigDict] + _numpy_globals()


def _safe_global_names() -> set:
    return {f'{obj.__module__}.{obj.__qualname__}' for obj in checkpoint_safe_globals()}


def load_local_checkpoint(filename: str,
                          map_location: Optional[Union[str, Callable]] = None) -> dict:
    """Load a local checkpoint with ``weights_only=True`` and the MMEngine allow-list.

    Args:
        filename (str): Path of the checkpoint file.
        map_location (str | callable, optional): As in :func:`torch.load`.

    Returns:
        dict: The checkpoint.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: It holds objects outside :func:`checkpoint_safe_globals`.
        CheckpointError: It is not a readable torch checkpoint (truncated, wrong format).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        except Exception:  # legacy (non-zip) format: fall back to torch's message
            found = []
        refused = sorted(set(found) - _safe_global_names())
        detail = ', '.join(refused) if refused else str(err).splitlines()[0]
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {filename}: it contains pickled objects that are not '
            f'on the allow-list of MMEngine checkpoint types ({detail}). Only tensors, containers, '
            'numpy arrays/scalars, HistoryBuffer and ConfigDict are loaded; re-save the state '
            'dict of a trusted checkpoint with plain tensors to use it.') from err
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(
            f'Cannot read checkpoint {filename}: {err}. The file is truncated or is not a '
            'checkpoint saved by torch.save.') from err


def install_safe_checkpoint_loader() -> None:
    """Route MMEngine's local checkpoint loading through :func:`load_local_checkpoint`.

    Idempotent. Affects ``load_checkpoint``, ``Runner.load_checkpoint`` and ``Runner.resume``.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
