# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Shorten (or lengthen) an iteration-based training schedule as a whole.

Overriding only ``train_cfg.max_iters`` leaves every parameter scheduler on the config's own
length: a toy config of 150 iterations run for 30 never leaves its warm-up ramp, and its
poly decay stops at 20 % instead of 0. :func:`scale_schedule` (``tools/train.py
--max-iters N``) rescales ``max_iters`` and every iteration count that is measured against it
together, by the factor ``N / max_iters``:

* each iteration-based ``param_scheduler``'s ``begin``, ``end``, ``T_max`` (cosine),
  ``milestones`` (multi-step), ``step_size`` (step) and ``total_steps`` (one-cycle);
* ``train_cfg.val_interval`` (an interval beyond the old length stays beyond the new one:
  "no validation during training");
* the ``interval`` of the checkpoint hook when it saved at the end of training only.

Epoch-based schedules are refused: their length is ``train_cfg.max_epochs``.
"""
import math
from typing import List, Mapping, Optional

from mmengine.config import Config

#: Scheduler arguments that count iterations from the start of training.
_ITER_KEYS = ('begin', 'end', 'T_max', 'step_size', 'total_steps')


class ScheduleScaleError(ValueError):
    """The config's schedule cannot be rescaled (epoch-based, or no ``train_cfg.max_iters``)."""


def _scale(value: int, factor: float, minimum: int = 0) -> int:
    return max(minimum, int(round(value * factor)))


def scale_schedule(cfg: Config, max_iters: int) -> List[str]:
    """Set ``train_cfg.max_iters`` to ``max_iters`` and rescale the schedule with it.

    Args:
        cfg (Config): A loaded config with an iteration-based ``train_cfg`` (changed in place).
        max_iters (int): The new number of training iterations (> 0).

    Returns:
        list[str]: One line per changed setting, ``'param_scheduler.1.end: 150 -> 30'``, for
        the log.

    Raises:
        ScheduleScaleError: ``max_iters`` is not positive, ``train_cfg`` has no ``max_iters``
            (e.g. an epoch-based loop), or a scheduler counts epochs.
    """
    if max_iters <= 0:
        raise ScheduleScaleError(f'--max-iters must be positive, got {max_iters}.')
    train_cfg = cfg.get('train_cfg')
    if not isinstance(train_cfg, Mapping) or not train_cfg.get('max_iters'):
        raise ScheduleScaleError(
            '--max-iters rescales an iteration-based schedule, but this config has no '
            f'train_cfg.max_iters (train_cfg={dict(train_cfg or {})}); shorten an epoch-based '
            'schedule with --cfg-options train_cfg.max_epochs=N (its schedulers count epochs).')
    old = int(train_cfg['max_iters'])
    factor = max_iters / old
    changes = [f'train_cfg.max_iters: {old} -> {max_iters}']
    train_cfg['max_iters'] = max_iters

    val_interval = train_cfg.get('val_interval')
    if isinstance(val_interval, int):
        new = max_iters + 1 if val_interval > old else _scale(val_interval, factor, 1)
        if new != val_interval:
            train_cfg['val_interval'] = new
            changes.append(f'train_cfg.val_interval: {val_interval} -> {new}')

    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, Mapping):
        schedulers = [schedulers]
    for index, scheduler in enumerate(schedulers):
        name = f'param_scheduler.{index}' if len(schedulers) > 1 else 'param_scheduler'
        if scheduler.get('by_epoch', True):
            raise ScheduleScaleError(
                f"{name} ({scheduler.get('type')}) counts epochs (by_epoch=True), so --max-iters "
                'cannot rescale it; shorten train_cfg.max_epochs instead or set by_epoch=False.')
        for key in _ITER_KEYS:
            value = scheduler.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isinf(value):
                continue
            minimum = 0 if key == 'begin' else 1
            new = _scale(value, factor, minimum)
            if key == 'end':
                new = max(min(new, max_iters), _scale(scheduler.get('begin', 0), factor) + 1)
            if new != value:
                scheduler[key] = new
                changes.append(f'{name}.{key}: {value} -> {new}')
        milestones = scheduler.get('milestones')
        if isinstance(milestones, (list, tuple)):
            new = [_scale(m, factor, 1) for m in milestones]
            if list(new) != list(milestones):
                scheduler['milestones'] = new
                changes.append(f'{name}.milestones: {list(milestones)} -> {new}')

    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get('interval'), int):
        interval = checkpoint['interval']
        if interval >= old and not checkpoint.get('by_epoch', False):
            checkpoint['interval'] = max_iters
            changes.append(f'default_hooks.checkpoint.interval: {interval} -> {max_iters}')
    return changes


def unscaled_schedulers(cfg: Config) -> Optional[str]:
    """Describe iteration-based schedulers that end after ``train_cfg.max_iters``, if any.

    ``--cfg-options train_cfg.max_iters=30`` on a 150-iteration config leaves them there; the
    message suggests ``--max-iters`` instead.
    """
    train_cfg = cfg.get('train_cfg')
    if not isinstance(train_cfg, Mapping) or not train_cfg.get('max_iters'):
        return None
    max_iters = train_cfg['max_iters']
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, Mapping):
        schedulers = [schedulers]
    late = [f"{s.get('type')} (end={s.get('end')})" for s in schedulers
            if not s.get('by_epoch', True) and isinstance(s.get('end'), (int, float))
            and not math.isinf(s['end']) and s['end'] > max_iters]
    if not late:
        return None
    return (f"train_cfg.max_iters={max_iters} but the schedulers {', '.join(late)} end later, "
            'so training stops before they finish (e.g. inside the warm-up). Use '
            'tools/train.py --max-iters N to shorten the schedule and its schedulers together.')
