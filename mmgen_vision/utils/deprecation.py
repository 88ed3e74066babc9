# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Keep configs written with a renamed constructor argument working for one release.

Constructor arguments follow mmcv / mmpretrain names (``embed_dims``, ``num_layers``,
``feedforward_channels``, ... see docs/architecture.md, "Naming"). Where a name changed, the
old keyword is still accepted for one release: it is mapped to the new one with a
``FutureWarning`` that names both, so a config (or the config stored in a checkpoint's meta)
written before still builds the same module. Passing both names is an error.

Task names follow the same rule: one spelling per task across methods (:data:`TASK_NAMES`);
an older spelling (:data:`TASK_ALIASES`) is mapped by :func:`canonical_task` with a warning.
"""
import functools
import warnings
from typing import Callable, Dict, Optional, Sequence


def renamed_arguments(**renames: str) -> Callable:
    """Decorate an ``__init__`` (or function) whose keyword arguments were renamed.

    ``@renamed_arguments(embed_dim='embed_dims')`` makes ``Cls(embed_dim=64)`` build
    ``Cls(embed_dims=64)`` and warn. Only keywords are mapped (positional arguments keep their
    place). :func:`inspect.signature` of the wrapper shows the new names, so the config checks
    (:mod:`mmgen_vision.utils.config_check`) suggest them for an old ``--cfg-options`` key.

    Args:
        **renames (str): ``old_name='new_name'`` pairs.

    Returns:
        Callable: The decorator. The wrapped function keeps the mapping in its
        ``renamed_arguments`` attribute.
    """
    for old, new in renames.items():
        if not isinstance(new, str) or new == old:
            raise ValueError(f'renamed_arguments: {old!r} must map to a different name, got '
                             f'{new!r}')

    def decorator(func: Callable) -> Callable:
        owner = func.__qualname__
        if owner.endswith('.__init__'):
            owner = owner[:-len('.__init__')]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{owner} got both '{old}' and '{new}'; '{old}' was renamed "
                                    f"to '{new}', pass only '{new}'.")
                warnings.warn(
                    f"{owner}: argument '{old}' was renamed to '{new}'; update the config. "
                    f"'{old}' will stop working in the next release.",
                    FutureWarning,
                    stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        mapping: Dict[str, str] = dict(getattr(func, 'renamed_arguments', {}))
        mapping.update(renames)
        wrapper.renamed_arguments = mapping
        return wrapper

    return decorator


#: The project's task names (docs/architecture.md, "Naming"), one per task across methods.
TASK_NAMES = ('semantic', 'instance', 'panoptic', 'referring', 'detection', 'depth', 'pose',
              'caption', 'retrieval', 'vqa', 'denoise', 'derain', 'enhance')

#: Other spellings that configs or earlier releases used -> the project's name. Mapped with a
#: ``FutureWarning`` for one release, like renamed arguments.
TASK_ALIASES = {
    'semseg': 'semantic',
    'sem_seg': 'semantic',
    'ref-seg': 'referring',
    'refseg': 'referring',
    'grounding': 'referring',
    'captioning': 'caption',
    'det': 'detection',
    'keypoint': 'pose'
}


def canonical_task(task: str, choices: Optional[Sequence[str]] = None, owner: str = 'task') -> str:
    """The project's name of ``task``: an alias (:data:`TASK_ALIASES`) is mapped with a
    ``FutureWarning`` naming the new spelling, and the result is checked against ``choices``.

    Args:
        task (str): The task as written in a config, on the command line or in metainfo.
        choices (Sequence[str], optional): The tasks the caller supports. Defaults to None
            (anything).
        owner (str): Who asks, for the messages (e.g. ``'XDecoder task'``). Defaults to
            ``'task'``.

    Returns:
        str: The task's name in the project's vocabulary.

    Raises:
        ValueError: If the (mapped) task is not among ``choices``.
    """
    name = TASK_ALIASES.get(task, task)
    if name != task:
        warnings.warn(
            f"{owner} {task!r} is now spelt {name!r}; update the config. {task!r} "
            'will stop working in the next release.',
            FutureWarning,
            stacklevel=2)
    if choices is not None and name not in choices:
        raise ValueError(f'unknown {owner} {task!r}; choose one of {tuple(choices)}')
    return name
