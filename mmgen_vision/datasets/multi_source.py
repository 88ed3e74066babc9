# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Joint training on several datasets ("sources"), each with its own batch size and pipeline
(hence its own resolution), as X-Decoder trains on COCO panoptic + RefCOCO + image-text pairs.

Three pieces, all usable from an MMEngine config::

    train_dataloader = dict(
        batch_size=8,                       # default batch size of a source not listed below
        num_workers=2,
        sampler=dict(type='MultiSourceSampler', shuffle=True),
        batch_sampler=dict(type='MultiSourceBatchSampler', mode='joint',
                           batch_sizes=dict(panoptic=8, referring=8, caption=32)),
        dataset=dict(type='MultiSourceDataset',
                     datasets=dict(panoptic=..., referring=..., caption=...)))

- :class:`MultiSourceDataset` concatenates the sources' index spaces and tags every sample
  with its source (``source`` metainfo, and ``task`` when given).
- :class:`MultiSourceSampler` shuffles every source on its own (same permutation on every rank:
  seed + epoch) and shards it across processes like ``DefaultSampler`` (padded to a multiple of
  the world size, then every ``world_size``-th index from ``rank``).
- :class:`MultiSourceBatchSampler` cuts each source's shard into batches of that source's size
  and yields, per iteration, either one batch of *every* source concatenated (``'joint'``: the
  epoch is one pass over ``epoch_source``, the other sources are re-shuffled and cycled as
  needed) or one batch of *one* source in turn (``'round_robin'``: source 0, 1, ... while they
  have batches left; the epoch is one pass over every source).

A batch never mixes resolutions within one source; in ``'joint'`` mode the samples of a batch are
ordered by source, and the model groups them by their ``source`` metainfo. Every rank gets the
same number of batches of every source in the same order, so in ``'round_robin'`` mode all ranks
train the same task at the same iteration (DDP still needs ``find_unused_parameters=True``
when the tasks use different parameters).
"""
import bisect
import math
from typing import Dict, Iterator, List, Optional, Sequence, Union

import torch
from mmengine.dataset import BaseDataset
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Dataset, Sampler

from mmgen_vision.registry import DATA_SAMPLERS, DATASETS


@DATASETS.register_module()
class MultiSourceDataset(Dataset):
    """Several datasets behind one index space, every sample tagged with its source.

    Index ``i`` of source ``s`` is ``cumulative_sizes[s - 1] + i``. A packed sample
    (``dict(inputs=..., data_samples=...)``) gets ``source`` (the source name) and, if
    ``tasks`` names one, ``task`` in the metainfo of its data sample; a plain dict result gets
    both keys directly.

    Args:
        datasets (dict | Sequence): ``{name: dataset or config}`` (order kept) or a list of
            datasets / configs (named ``'0'``, ``'1'``, ...).
        tasks (dict, optional): ``{name: task}``, e.g. ``dict(coco='panoptic')``. Defaults to
            None (no ``task`` tag).
        lazy_init (bool): Postpone the sources' ``full_init``. Defaults to False.
    """

    def __init__(self,
                 datasets: Union[Dict[str, Union[dict, Dataset]], Sequence[Union[dict, Dataset]]],
                 tasks: Optional[Dict[str, str]] = None,
                 lazy_init: bool = False) -> None:
        if isinstance(datasets, dict):
            items = list(datasets.items())
        else:
            items = [(str(i), d) for i, d in enumerate(datasets)]
        if not items:
            raise ValueError('MultiSourceDataset needs at least one dataset')
        self.source_names: List[str] = [name for name, _ in items]
        tasks = dict(tasks or {})
        unknown = sorted(set(tasks) - set(self.source_names))
        if unknown:
            raise KeyError(f'MultiSourceDataset: tasks given for unknown sources {unknown} '
                           f'(sources: {self.source_names})')
        self.tasks = tasks
        self.datasets: List[Dataset] = []
        for name, dataset in items:
            if isinstance(dataset, dict):
                dataset = DATASETS.build(dataset)
            elif not isinstance(dataset, Dataset):
                raise TypeError(f'MultiSourceDataset: source {name!r} must be a dataset or a '
                                f'config dict, got {type(dataset).__name__}')
            self.datasets.append(dataset)
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The first source's metainfo (e.g. the panoptic ``classes`` that checkpoints keep as
        ``dataset_meta``), plus ``sources`` (the names) and ``source_metainfo`` (by name)."""
        per_source = {
            name: dict(getattr(dataset, 'metainfo', {}))
            for name, dataset in zip(self.source_names, self.datasets)
        }
        return dict(per_source[self.source_names[0]], sources=tuple(self.source_names),
                    source_metainfo=per_source)

    def full_init(self) -> None:
        """Fully initialise every source and compute the index offsets."""
        if self._fully_initialized:
            return
        for dataset in self.datasets:
            if isinstance(dataset, BaseDataset) or hasattr(dataset, 'full_init'):
                dataset.full_init()
        self.source_sizes: List[int] = [len(d) for d in self.datasets]
        empty = [n for n, s in zip(self.source_names, self.source_sizes) if s == 0]
        if empty:
            raise ValueError(f'MultiSourceDataset: sources {empty} are empty')
        self.cumulative_sizes: List[int] = []
        total = 0
        for size in self.source_sizes:
            total += size
            self.cumulative_sizes.append(total)
        self._fully_initialized = True

    def source_offset(self, source: int) -> int:
        """Global index of the first sample of ``source``."""
        return 0 if source == 0 else self.cumulative_sizes[source - 1]

    def locate(self, idx: int) -> tuple:
        """``(source index, index inside the source)`` of global index ``idx``."""
        self.full_init()
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range for {len(self)} samples')
        source = bisect.bisect_right(self.cumulative_sizes, idx)
        return source, idx - self.source_offset(source)

    def __len__(self) -> int:
        self.full_init()
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        source, local = self.locate(idx)
        result = self.datasets[source][local]
        name = self.source_names[source]
        tags = dict(source=name)
        if name in self.tasks:
            tags['task'] = self.tasks[name]
        if isinstance(result, dict) and hasattr(result.get('data_samples'), 'set_metainfo'):
            result['data_samples'].set_metainfo(tags)
        elif isinstance(result, dict):
            result.update(tags)
        return result


def _check_multi_source(dataset, who: str) -> MultiSourceDataset:
    if not isinstance(dataset, MultiSourceDataset):
        raise TypeError(f'{who} needs a MultiSourceDataset, got {type(dataset).__name__}; set '
                        "train_dataloader.dataset.type='MultiSourceDataset'")
    return dataset


@DATA_SAMPLERS.register_module()
class MultiSourceSampler(Sampler):
    """Per-source shuffling and distributed sharding of a :class:`MultiSourceDataset`.

    For every source, the permutation of epoch ``e`` and cycle ``c`` (a source re-drawn
    because it ran out, see :class:`MultiSourceBatchSampler`) comes from a generator seeded
    with ``seed + e``, ``source index`` and ``c``: identical on every rank. It is padded by
    repeating its head to a multiple of the world size and rank ``r`` keeps positions
    ``r, r + world_size, ...``; every sample is thus seen once per epoch over all ranks (plus
    at most ``world_size - 1`` repeats per source).

    Iterating the sampler itself yields the shards of all sources one after the other.

    Args:
        dataset (MultiSourceDataset): The sources.
        shuffle (bool): Shuffle within each source. Defaults to True.
        seed (int, optional): Base seed; None draws one shared by all ranks. Defaults to None.
        rank (int, optional): Override the process rank (tests). Defaults to None.
        world_size (int, optional): Override the world size (tests). Defaults to None.
    """

    def __init__(self,
                 dataset: MultiSourceDataset,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        self.dataset = _check_multi_source(dataset, 'MultiSourceSampler')
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else rank
        self.world_size = dist_world if world_size is None else world_size
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'rank {self.rank} is not in [0, world_size={self.world_size})')
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    @property
    def num_sources(self) -> int:
        return len(self.dataset.source_sizes)

    def shard_size(self, source: int) -> int:
        """Samples of ``source`` on every rank in one cycle."""
        return math.ceil(self.dataset.source_sizes[source] / self.world_size)

    def source_indices(self, source: int, cycle: int = 0) -> List[int]:
        """This rank's global indices of ``source`` for the current epoch and ``cycle``."""
        size = self.dataset.source_sizes[source]
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed((self.seed + self.epoch) * 1000003 + source * 1009 + cycle)
            order = torch.randperm(size, generator=g).tolist()
        else:
            order = list(range(size))
        total = self.shard_size(source) * self.world_size
        order = (order * math.ceil(total / size))[:total]
        offset = self.dataset.source_offset(source)
        return [offset + i for i in order[self.rank:total:self.world_size]]

    def __iter__(self) -> Iterator[int]:
        for source in range(self.num_sources):
            yield from self.source_indices(source)

    def __len__(self) -> int:
        return sum(self.shard_size(s) for s in range(self.num_sources))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (called by MMEngine at every epoch start)."""
        self.epoch = epoch


@DATA_SAMPLERS.register_module()
class MultiSourceBatchSampler(Sampler):
    """Batches of a :class:`MultiSourceSampler`, each source with its own batch size.

    Args:
        sampler (MultiSourceSampler): Shuffled, sharded indices per source.
        batch_size (int): Batch size of sources missing from ``batch_sizes`` (MMEngine passes
            the dataloader's ``batch_size``).
        batch_sizes (dict, optional): ``{source name: batch size}`` per process.
        mode (str): ``'joint'`` (one batch of every source per iteration) or
            ``'round_robin'`` (one source per iteration, in turn). Defaults to ``'joint'``.
        epoch_source (str, optional): ``'joint'`` mode: the source whose single pass is one
            epoch (the others cycle, re-shuffled each cycle). Defaults to the first source.
        drop_last (bool): Drop each source's last incomplete batch. Defaults to True.
    """
    MODES = ('joint', 'round_robin')

    def __init__(self,
                 sampler: MultiSourceSampler,
                 batch_size: int = 1,
                 batch_sizes: Optional[Dict[str, int]] = None,
                 mode: str = 'joint',
                 epoch_source: Optional[str] = None,
                 drop_last: bool = True) -> None:
        if not isinstance(sampler, MultiSourceSampler):
            raise TypeError('MultiSourceBatchSampler needs a MultiSourceSampler, got '
                            f"{type(sampler).__name__}; set train_dataloader.sampler.type="
                            "'MultiSourceSampler'")
        if mode not in self.MODES:
            raise ValueError(f'MultiSourceBatchSampler: mode must be one of {self.MODES}, '
                             f'got {mode!r}')
        names = sampler.dataset.source_names
        batch_sizes = dict(batch_sizes or {})
        unknown = sorted(set(batch_sizes) - set(names))
        if unknown:
            raise KeyError(f'MultiSourceBatchSampler: batch_sizes for unknown sources {unknown} '
                           f'(sources: {names})')
        self.batch_sizes = [int(batch_sizes.get(n, batch_size)) for n in names]
        if any(b < 1 for b in self.batch_sizes):
            raise ValueError(f'batch sizes must be positive, got {self.batch_sizes}')
        if epoch_source is not None and epoch_source not in names:
            raise KeyError(f'MultiSourceBatchSampler: epoch_source {epoch_source!r} is not a '
                           f'source (sources: {names})')
        self.sampler = sampler
        self.mode = mode
        self.epoch_source = names.index(epoch_source) if epoch_source else 0
        self.drop_last = drop_last
        for s, name in enumerate(names):
            if self._num_batches(s) == 0:
                raise ValueError(f'source {name!r} has {sampler.shard_size(s)} samples per '
                                 f'process, fewer than its batch size {self.batch_sizes[s]} '
                                 '(with drop_last)')

    def _num_batches(self, source: int) -> int:
        size, batch = self.sampler.shard_size(source), self.batch_sizes[source]
        return size // batch if self.drop_last else math.ceil(size / batch)

    def _batches(self, source: int, cycle: int = 0) -> List[List[int]]:
        indices = self.sampler.source_indices(source, cycle)
        batch = self.batch_sizes[source]
        return [indices[i:i + batch] for i in range(0, self._num_batches(source) * batch, batch)]

    def _cycled(self, source: int) -> Iterator[List[int]]:
        cycle = 0
        while True:
            yield from self._batches(source, cycle)
            cycle += 1

    def __iter__(self) -> Iterator[List[int]]:
        num_sources = self.sampler.num_sources
        if self.mode == 'joint':
            streams = [
                iter(self._batches(s)) if s == self.epoch_source else self._cycled(s)
                for s in range(num_sources)
            ]
            for _ in range(len(self)):
                batch: List[int] = []
                for stream in streams:
                    batch.extend(next(stream))
                yield batch
        else:
            per_source = [self._batches(s) for s in range(num_sources)]
            for step in range(max(len(b) for b in per_source)):
                for batches in per_source:
                    if step < len(batches):
                        yield batches[step]

    def __len__(self) -> int:
        if self.mode == 'joint':
            return self._num_batches(self.epoch_source)
        return sum(self._num_batches(s) for s in range(self.sampler.num_sources))
