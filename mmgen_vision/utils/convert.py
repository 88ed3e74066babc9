# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Helpers shared by the converters in ``tools/model_converters/``.

A converter maps an official checkpoint's key layout onto ours with an ordered list of regex
rules, refuses to silently drop anything, and saves an MMEngine-style checkpoint::

    state_dict = load_official_state_dict('official.pth')
    converted = convert_state_dict(state_dict, RULES, drop=(r'^optimizer\\.', ))
    save_converted_checkpoint(converted, 'ours.pth', source='official.pth')
"""
import hashlib
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, Iterable, Optional, Sequence, Tuple, Union

import torch

from .checkpoint import load_local_checkpoint

#: A rule: (pattern, replacement) for ``re.sub``, or (pattern, callable(key, tensor) ->
#: {new_key: tensor}) for keys that split or merge (e.g. a fused qkv into q, k, v).
Rule = Tuple[str, Union[str, Callable[[str, torch.Tensor], Dict[str, torch.Tensor]]]]


class ConversionError(KeyError):
    """A key could not be converted; the message lists the keys."""

    def __str__(self) -> str:
        return str(self.args[0])


def load_official_state_dict(path: str, nested_keys: Sequence[str] = ('state_dict', 'model',
                                                                      'module')) -> OrderedDict:
    """Read an official checkpoint (safely, ``weights_only=True``) and return its tensors.

    Official releases wrap the weights differently (``{'model': ...}``, ``{'state_dict': ...}``,
    a bare state dict); the first of ``nested_keys`` present is unwrapped.
    """
    checkpoint = load_local_checkpoint(path, map_location='cpu')
    for key in nested_keys:
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    state_dict = OrderedDict((k, v) for k, v in checkpoint.items() if torch.is_tensor(v))
    if not state_dict:
        raise ConversionError(f'{path} holds no tensors under {list(nested_keys)} or at its top '
                              'level: is it a model checkpoint?')
    return state_dict


def convert_state_dict(state_dict: Dict[str, torch.Tensor], rules: Iterable[Rule],
                       drop: Iterable[str] = (), strict: bool = True) -> OrderedDict:
    """Rename (or split/merge) every key with the first matching rule.

    Args:
        state_dict (dict[str, Tensor]): Official weights.
        rules (list[Rule]): Applied in order; the first whose pattern matches (``re.search``)
            converts the key. A key no rule matches keeps its name.
        drop (list[str]): Patterns of keys to leave out on purpose (EMA copies, optimiser state).
        strict (bool): Raise if two keys convert to the same new key.

    Returns:
        OrderedDict[str, Tensor]: Converted weights, in the original order.
    """
    rules = [(re.compile(pattern), target) for pattern, target in rules]
    drop = [re.compile(pattern) for pattern in drop]
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    sources: Dict[str, str] = {}
    for key, value in state_dict.items():
        if any(p.search(key) for p in drop):
            continue
        out = {key: value}
        for pattern, target in rules:
            if pattern.search(key):
                out = target(key, value) if callable(target) else {pattern.sub(target, key): value}
                break
        for new_key, new_value in out.items():
            if strict and new_key in converted:
                raise ConversionError(f'keys {sources[new_key]!r} and {key!r} both convert to '
                                      f'{new_key!r}')
            converted[new_key] = new_value
            sources[new_key] = key
    return converted


def check_converted_keys(converted: Dict[str, torch.Tensor], model: torch.nn.Module) -> None:
    """Raise :class:`ConversionError` unless ``converted`` fits ``model`` exactly (keys+shapes)."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(converted))
    unexpected = sorted(set(converted) - set(expected))
    shapes = [f'{k}: {tuple(converted[k].shape)} vs {tuple(expected[k].shape)}'
              for k in converted if k in expected and converted[k].shape != expected[k].shape]
    if missing or unexpected or shapes:
        raise ConversionError(
            f'converted weights do not fit {type(model).__name__}: missing {missing[:8]}, '
            f'unexpected {unexpected[:8]}, shape mismatches {shapes[:8]}')


def save_converted_checkpoint(state_dict: Dict[str, torch.Tensor], out_file: str,
                              source: Optional[str] = None, meta: Optional[dict] = None) -> str:
    """Save ``{'state_dict': ..., 'meta': ...}`` loadable by ``load_from``/``tools/test.py``.

    Returns:
        str: The sha256 prefix (8 hex digits) of the file, OpenMMLab's publishing convention.
    """
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    info = dict(meta or {})
    if source is not None:
        info['converted_from'] = osp.basename(source)
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': info}, out_file)
    return file_sha256(out_file)[:8]


def file_sha256(path: str) -> str:
    """The SHA-256 of a file (64 hex digits), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()
