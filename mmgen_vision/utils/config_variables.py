# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Refuse config variables that a child config sets but that nothing reads any more.

An MMEngine config file is executed on its own, bases first: the ``data_root``,
``num_classes`` or ``train_pipeline`` of a base is copied into the dicts that use it while the
base is parsed. A child that sets ``data_root = 'data/mine'`` at the top level changes that
variable and nothing else, so the dataloaders go on reading the base's data without a word.

:func:`check_variable_overrides` finds such overrides: for every file of a config's ``_base_``
tree and every top-level variable that the file gives a new value, it looks for the settings
(runner keys such as ``train_dataloader`` or ``model``) where the base used the old value,
and refuses the config when the file's resolved settings still hold it there.
"""
import functools
import os.path as osp
from typing import Any, Iterator, List, Mapping, Sequence, Tuple

from mmengine.config import Config

from .config_check import RUNNER_KEYS, ConfigKeyError

#: Keys MMEngine gives a meaning to; they are not the config's variables.
_RESERVED = ('_base_', '_delete_', '_scope_', '_deprecation_')


class StaleVariableError(ConfigKeyError):
    """A child config set a base's variable, and a setting still holds the base's value."""


@functools.lru_cache(maxsize=512)
def _resolved(path: str, mtime: float) -> dict:
    """The resolved dict of one config file (cached while the file is unchanged)."""
    return Config.fromfile(path).to_dict()


def _resolve(path: str) -> dict:
    return _resolved(osp.abspath(path), osp.getmtime(path))


def _bases(filename: str) -> List[str]:
    """The files ``filename`` names in ``_base_`` (read from its source, not executed)."""
    if osp.splitext(filename)[1] != '.py':
        return []  # json / yaml bases carry no variables that could have been substituted
    return [
        osp.normpath(Config._get_cfg_path(base, filename)[0])
        for base in Config._get_base_files(filename)
    ]


def _plain(value: Any) -> Any:
    """Tuples as lists, so that ``(96, 96)`` and ``[96, 96]`` compare equal."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _items(node: Any, prefix: str) -> Iterator[Tuple[str, Any, Any]]:
    """``(dotted path, key, value)`` of ``node`` and everything below it."""
    yield prefix, prefix.rsplit('.', 1)[-1], node
    if isinstance(node, Mapping):
        children = ((str(k), v) for k, v in node.items())
    elif isinstance(node, list):
        children = ((str(i), v) for i, v in enumerate(node))
    else:
        return
    for key, value in children:
        yield from _items(value, f'{prefix}.{key}')


def _lookup(node: Any, path: str) -> Tuple[bool, Any]:
    """``(found, value)`` at a dotted ``path`` of a resolved dict."""
    for part in path.split('.'):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _is_path_prefix(old: Any, value: Any) -> bool:
    """``value`` was built from the directory ``old`` (``data_root + 'annotations/...'``)."""
    return (isinstance(old, str) and isinstance(value, str) and '/' in old
            and value != old and value.startswith(old)
            and (old.endswith('/') or value[len(old)] == '/'))


#: Keys under which a schedule length is used without its name: a parameter scheduler ends
#: (``end``, ``T_max``) where the schedule ends, and ``begin`` where the warm-up ends.
_NUMBER_KEYS = {
    'max_iters': ('end', 'T_max', 'total_iters'),
    'max_epochs': ('end', 'T_max', 'total_iters'),
    'warmup_iters': ('end', 'begin'),
    'warmup_epochs': ('end', 'begin'),
}


def _uses(name: str, old: Any, key: str, value: Any) -> bool:
    """Whether a setting ``key: value`` of the base is where it used ``name = old``.

    A number or a bool is only recognised under a key of the variable's name
    (``decode_head.num_classes``: another ``5`` may be a coincidence) or, for a schedule
    length, a key of :data:`_NUMBER_KEYS` (``param_scheduler.1.end``); a string, list or dict
    wherever it stands, and a directory also as the start of a path built from it.
    """
    if isinstance(old, (bool, int, float)):
        keys = (name, ) + _NUMBER_KEYS.get(name, ())
        return key in keys and type(value) is type(old) and value == old
    return value == old or _is_path_prefix(old, value)


def _short(value: Any, limit: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + ' ...' + text[-1]


def _stale_settings(child: dict, base: dict, name: str,
                    settings: Sequence[str]) -> List[Tuple[str, Any]]:
    """Settings that hold ``base[name]`` where the base put it and still do in ``child``."""
    old, new, plain_child = _plain(base[name]), _plain(child[name]), _plain(child)
    stale = []
    for top in settings:
        if top not in base or top not in child:
            continue
        for path, key, value in _items(_plain(base[top]), top):
            if not _uses(name, old, key, value):
                continue
            found, now = _lookup(plain_child, path)
            if not found or now != value:
                continue  # the child set this one
            if _is_path_prefix(old, value) and isinstance(new, str) and value.startswith(new):
                continue  # 'data/x/' -> 'data/x/y/': the old path also starts with the new one
            stale.append((path, value))
    # report the outermost setting: `train_dataloader.dataset.pipeline`, not its items
    return [(p, v) for p, v in stale if not any(p.startswith(q + '.') for q, _ in stale)]


def _check_file(filename: str, settings: Sequence[str]) -> None:
    child = _resolve(filename)
    for base_file in _bases(filename):
        base = _resolve(base_file)
        for name in base:
            if (name in settings or name in _RESERVED or name not in child
                    or _plain(child[name]) == _plain(base[name])):
                continue
            old = base[name]
            if old is None or (isinstance(old, (str, list, tuple, Mapping)) and not old):
                continue  # None, '' or []: too common a value to say where it was used
            stale = _stale_settings(child, base, name, settings)
            if not stale:
                continue
            where = ', '.join(path if value == _plain(old) else f'{path} (= {_short(value)})'
                              for path, value in stale[:4])
            more = f' and {len(stale) - 4} more' if len(stale) > 4 else ''
            verb = 'holds' if len(stale) == 1 else 'hold'
            raise StaleVariableError(
                f"'{name}' was set to {_short(child[name])} in {filename}, but {where}{more} "
                f'still {verb} {_short(old)}, its value in {base_file}: a base\'s variables are '
                'copied into its settings when the base is parsed, so the new value reaches '
                f'none of them. Set those keys in {osp.basename(filename)} instead (e.g. '
                f"{_example(stale[0][0], name)}), or remove '{name}' from it.")


def _example(path: str, name: str) -> str:
    """How to set ``path`` in a child: ``a = dict(b=dict(c=name))`` for ``a.b.c``."""
    parts = path.split('.')
    if len(parts) == 1:
        return f'{path} = {name}'
    if any(part.isdigit() for part in parts):
        return f'{parts[0]} with {name} in the place of the list item the base had it in'
    text = f'{parts[-1]}={name}'
    for part in reversed(parts[1:-1]):
        text = f'{part}=dict({text})'
    return f'{parts[0]} = dict({text})'


def check_variable_overrides(filename: str, extra_keys: Sequence[str] = ()) -> None:
    """Refuse a config whose files set a base's variable that nothing reads any more.

    Every file of the ``_base_`` tree of ``filename`` is compared with each of its bases: a
    top-level variable (a key that neither the runner, see
    :data:`~mmgen_vision.utils.config_check.RUNNER_KEYS`, nor the tool reads) whose resolved
    value differs from the base's is looked up where the base used it, in the settings the
    runner reads; a setting that still holds the base's value there (or a path built from the
    base's directory) was not updated.

    Args:
        filename (str): The config file.
        extra_keys (Sequence[str]): Top-level keys the calling tool reads besides the
            runner's (they are settings, not variables). Defaults to ().

    Raises:
        StaleVariableError: Naming the variable, the file that set it, the settings that still
            hold the base's value and the base.
    """
    settings = tuple(RUNNER_KEYS) + tuple(extra_keys)
    pending, seen = [osp.normpath(filename)], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        _check_file(current, settings)
        pending.extend(_bases(current))
