# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``skip_restart_pause``: same batches as MMEngine's restarting iterator, without its sleep."""
import time

import torch
from mmengine.runner.loops import IterBasedTrainLoop, _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmgen_vision.engine.runner.epoch_restart import skip_restart_pause


def _loop(loader):
    loop = IterBasedTrainLoop.__new__(IterBasedTrainLoop)  # the attributes the function reads
    loop.dataloader = loader
    loop.dataloader_iterator = _InfiniteDataloaderIterator(loader)
    return loop


def test_restarts_give_the_stock_batches_without_sleeping(monkeypatch):
    sleeps = []
    monkeypatch.setattr(time, 'sleep', sleeps.append)
    loader = DataLoader(list(range(5)), batch_size=2, shuffle=True)  # 3 batches per pass
    torch.manual_seed(0)
    stock = _InfiniteDataloaderIterator(loader)
    expected = [next(stock).tolist() for _ in range(10)]
    assert sleeps == [2, 2, 2]  # the stock iterator pauses at each of the 3 restarts

    sleeps.clear()
    torch.manual_seed(0)
    loop = _loop(loader)
    assert skip_restart_pause(loop)
    assert [next(loop.dataloader_iterator).tolist() for _ in range(10)] == expected
    assert sleeps == []
    assert loop.dataloader_iterator._epoch == 3


def test_loaders_with_workers_keep_the_pause():
    loader = DataLoader(list(range(5)), batch_size=2, num_workers=2)
    loop = _loop(loader)
    assert not skip_restart_pause(loop)
    assert type(loop.dataloader_iterator) is _InfiniteDataloaderIterator
    assert not skip_restart_pause(object())
