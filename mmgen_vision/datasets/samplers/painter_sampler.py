# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Infinite multi-task sampler: draw the task by its config weight, then a sample of it."""
from typing import Dict, Iterator, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import ConcatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmgen_vision.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class MultiTaskWeightedSampler(Sampler):
    """Indices into a :class:`ConcatDataset` of per-task datasets, tasks drawn by weight.

    Every index first draws a sub-dataset with probability proportional to its weight, then a
    uniformly random sample of it (the release's task sampling). Infinite, like
    ``InfiniteSampler``; each rank draws its own stream (seeded by ``seed + rank``).

    Args:
        dataset (ConcatDataset): The per-task datasets (each with a ``task`` attribute or
            ``metainfo['task']``).
        weights (dict[str, float] | sequence[float]): Per task name, or per sub-dataset.
        seed (int, optional): Random seed (synchronised across ranks when None).
    """

    def __init__(self, dataset: ConcatDataset,
                 weights: Union[Dict[str, float], Sequence[float]],
                 seed: Optional[int] = None, shuffle: bool = True) -> None:
        if not isinstance(dataset, ConcatDataset):
            raise TypeError('MultiTaskWeightedSampler needs a ConcatDataset of per-task datasets '
                            f'(got {type(dataset).__name__})')
        self.dataset = dataset
        self.sizes = [len(d) for d in dataset.datasets]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        tasks = [getattr(d, 'task', None) or getattr(d, 'metainfo', {}).get('task')
                 for d in dataset.datasets]
        if isinstance(weights, dict):
            unknown = sorted(set(weights) - set(tasks))
            if unknown:
                raise KeyError(f'sampler weights name unknown tasks {unknown}; the datasets '
                               f'are {tasks}')
            missing = [t for t in tasks if t not in weights]
            if missing:
                raise KeyError(f'sampler weights miss the tasks {missing}')
            w = [float(weights[t]) for t in tasks]
        else:
            w = [float(x) for x in weights]
            if len(w) != len(tasks):
                raise ValueError(f'{len(w)} sampler weights for {len(tasks)} datasets')
        if min(w) < 0 or sum(w) <= 0:
            raise ValueError(f'sampler weights must be >= 0 with a positive sum, got {w}')
        self.tasks = tasks
        self.probs = np.asarray(w) / sum(w)
        self.rank, self.world_size = get_dist_info()
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    def _indices(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.rank, self.epoch])
        while True:
            which = rng.choice(len(self.sizes), size=1024, p=self.probs)
            for d in which:
                yield int(self.offsets[d] + rng.integers(self.sizes[d]))

    def __iter__(self) -> Iterator[int]:
        return self._indices()

    def __len__(self) -> int:
        return sum(self.sizes) // self.world_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
