# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Restart a single-process training dataloader without MMEngine's two-second pause.

``IterBasedTrainLoop`` wraps its dataloader in ``_InfiniteDataloaderIterator``, which restarts
the dataloader whenever a pass ends and sleeps 2 s first, against a deadlock of *worker
processes* at the epoch transition. A dataloader with ``num_workers=0`` has no workers to
deadlock, yet the pause stays: on a small dataset it is a large share of the run (the toy
X-Decoder restarts every ~20 iterations of ~1 s, i.e. 10 % of its training time is sleep).
:func:`skip_restart_pause` removes the pause there and nowhere else. Everything else is kept
as it was: the same ``set_epoch`` calls, the same fresh ``iter(dataloader)`` per pass (hence the
same random draws), so a run gives the same batches and losses as before.
"""
import logging
from typing import Sequence

from mmengine.logging import print_log
from mmengine.runner.loops import IterBasedTrainLoop, _InfiniteDataloaderIterator


class _SingleProcessRestartIterator(_InfiniteDataloaderIterator):
    """``_InfiniteDataloaderIterator`` without the pause (``num_workers=0`` only)."""

    _warned = False

    def __next__(self) -> Sequence[dict]:
        try:
            return next(self._iterator)
        except StopIteration:
            if not self._warned:
                print_log(
                    'the training dataloader is restarted at the end of each pass (once '
                    'per epoch); an InfiniteSampler avoids the restarts', logger='current',
                    level=logging.INFO)
                self._warned = True
            self._epoch += 1
            if hasattr(self._dataloader, 'sampler') and hasattr(self._dataloader.sampler,
                                                                'set_epoch'):
                self._dataloader.sampler.set_epoch(self._epoch)
            elif hasattr(self._dataloader, 'batch_sampler') and hasattr(
                    self._dataloader.batch_sampler.sampler, 'set_epoch'):
                self._dataloader.batch_sampler.sampler.set_epoch(self._epoch)
            self._iterator = iter(self._dataloader)
            return next(self._iterator)


def skip_restart_pause(loop) -> bool:
    """Drop the 2 s pause of an ``IterBasedTrainLoop`` whose dataloader has no workers.

    The loop's existing iterator keeps its state (its current pass is not restarted, no new
    random numbers are drawn). Returns whether the loop was changed.
    """
    if not isinstance(loop, IterBasedTrainLoop):
        return False
    iterator = getattr(loop, 'dataloader_iterator', None)
    if type(iterator) is not _InfiniteDataloaderIterator:
        return False
    if getattr(loop.dataloader, 'num_workers', 1) != 0:
        return False
    iterator.__class__ = _SingleProcessRestartIterator
    return True


__all__ = ['skip_restart_pause']
