# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Multi-source training data: per-source batch sizes and resolutions (ShapesWorld joint
config), determinism across epochs and seeds, and distributed sharding (simulated ranks)."""
import os.path as osp
from collections import Counter

import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from torch.utils.data import Dataset

from conftest import REPO_ROOT
from mmgen_vision.datasets import (MultiSourceBatchSampler, MultiSourceDataset,
                                   MultiSourceSampler)
from mmgen_vision.registry import DATA_SAMPLERS, DATASETS

JOINT_CONFIG = osp.join(REPO_ROOT, 'configs/_base_/datasets/xdecoder_shapesworld_joint.py')


class _Range(Dataset):

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dict(value=i)


def _sources(sizes=dict(a=10, b=7, c=4)):
    return MultiSourceDataset({k: _Range(n) for k, n in sizes.items()})


def _batches(dataset, rank=0, world_size=1, seed=0, epoch=0, **kwargs):
    sampler = MultiSourceSampler(dataset, seed=seed, rank=rank, world_size=world_size)
    sampler.set_epoch(epoch)
    return list(MultiSourceBatchSampler(sampler, **kwargs))


def _source_of(dataset, idx):
    return dataset.source_names[dataset.locate(idx)[0]]


def test_dataset_index_space_and_tags():
    assert DATASETS.get('MultiSourceDataset') is MultiSourceDataset
    assert DATA_SAMPLERS.get('MultiSourceBatchSampler') is MultiSourceBatchSampler
    dataset = MultiSourceDataset(dict(a=_Range(3), b=_Range(2)), tasks=dict(b='caption'))
    assert len(dataset) == 5
    assert dataset[2] == dict(value=2, source='a')
    assert dataset[3] == dict(value=0, source='b', task='caption')
    assert dataset[-1]['value'] == 1
    assert dataset.metainfo['sources'] == ('a', 'b')
    with pytest.raises(IndexError):
        dataset[5]
    with pytest.raises(KeyError, match='unknown sources'):
        MultiSourceDataset(dict(a=_Range(3)), tasks=dict(z='x'))
    with pytest.raises(ValueError, match='empty'):
        MultiSourceDataset(dict(a=_Range(0)))


def test_round_robin_batches_sizes_and_full_epoch():
    dataset = _sources()
    batches = _batches(dataset, mode='round_robin', drop_last=False,
                       batch_sizes=dict(a=4, b=3), batch_size=2)
    # a: 10 -> 4, 4, 2; b: 7 -> 3, 3, 1; c (default 2): 4 -> 2, 2; alternated a, b, c, a, ...
    assert [(_source_of(dataset, b[0]), len(b)) for b in batches] == [
        ('a', 4), ('b', 3), ('c', 2), ('a', 4), ('b', 3), ('c', 2), ('a', 2), ('b', 1)]
    for batch in batches:  # a batch never mixes sources
        assert len({_source_of(dataset, i) for i in batch}) == 1
    assert sorted(i for b in batches for i in b) == list(range(21))  # every sample once


def test_joint_batches_one_of_each_source():
    dataset = _sources()
    batch_sampler = MultiSourceBatchSampler(
        MultiSourceSampler(dataset, seed=1, rank=0, world_size=1), batch_size=1,
        batch_sizes=dict(a=2, b=3, c=1), mode='joint', epoch_source='c')
    batches = list(batch_sampler)
    assert len(batches) == len(batch_sampler) == 4  # one pass over c (4 samples, batch 1)
    for batch in batches:
        counts = Counter(_source_of(dataset, i) for i in batch)
        assert counts == dict(a=2, b=3, c=1)
    # the epoch source is seen exactly once; b (7 samples, 12 drawn) cycles with a re-shuffle
    c_drawn = sorted(i for b in batches for i in b if _source_of(dataset, i) == 'c')
    assert c_drawn == [17, 18, 19, 20]
    # b: 7 samples in batches of 3 with drop_last -> 6 per cycle; 4 iterations draw 2 cycles,
    # each without repeats, the second in a new order
    b_drawn = [i for batch in batches for i in batch if _source_of(dataset, i) == 'b']
    assert len(set(b_drawn[:6])) == 6 and len(set(b_drawn[6:])) == 6
    assert b_drawn[:6] != b_drawn[6:]
    assert set(b_drawn) <= set(range(10, 17))


def test_determinism_across_epochs_and_seeds():
    dataset = _sources()
    kwargs = dict(mode='round_robin', batch_sizes=dict(a=4, b=3, c=2))
    first = _batches(dataset, seed=0, epoch=0, **kwargs)
    assert first == _batches(dataset, seed=0, epoch=0, **kwargs)  # reproducible
    assert first != _batches(dataset, seed=0, epoch=1, **kwargs)  # reshuffled per epoch
    assert first != _batches(dataset, seed=5, epoch=0, **kwargs)  # seed matters
    # every epoch holds every sample once, in its own order
    epoch3 = _batches(dataset, seed=0, epoch=3, mode='round_robin', drop_last=False,
                      batch_sizes=dict(a=4, b=3, c=2))
    assert sorted(i for b in epoch3 for i in b) == list(range(21))
    no_shuffle = MultiSourceSampler(dataset, shuffle=False, seed=0, rank=0, world_size=1)
    assert list(no_shuffle) == list(range(21))


@pytest.mark.parametrize('sizes', [dict(a=12, b=8, c=4), dict(a=11, b=7, c=5)])
def test_sharding_two_ranks_covers_every_sample(sizes):
    dataset = _sources(sizes)
    per_rank = [
        [i for b in _batches(dataset, rank=r, world_size=2, seed=3, epoch=2, mode='round_robin',
                             drop_last=False, batch_sizes=dict(a=2, b=2, c=2)) for i in b]
        for r in range(2)
    ]
    assert len(per_rank[0]) == len(per_rank[1])  # same number of samples on both ranks
    # both ranks train the same source at the same iteration (DDP runs one task per step)
    seqs = [[_source_of(dataset, b[0]) for b in _batches(
        dataset, rank=r, world_size=2, seed=3, epoch=2, mode='round_robin', drop_last=False,
        batch_sizes=dict(a=2, b=2, c=2))] for r in range(2)]
    assert seqs[0] == seqs[1]
    counts = Counter(per_rank[0] + per_rank[1])
    assert set(counts) == set(range(len(dataset)))  # every sample is seen
    if all(n % 2 == 0 for n in sizes.values()):
        assert set(counts.values()) == {1}  # exactly once when the sizes divide evenly
    else:  # odd sources repeat one sample to pad to the world size, as DefaultSampler
        assert sum(c - 1 for c in counts.values()) == sum(n % 2 for n in sizes.values())
    # both ranks use the same per-source permutation: their shards are disjoint when even
    if all(n % 2 == 0 for n in sizes.values()):
        assert not set(per_rank[0]) & set(per_rank[1])


def test_bad_configuration():
    dataset = _sources()
    sampler = MultiSourceSampler(dataset, seed=0, rank=0, world_size=1)
    with pytest.raises(KeyError, match='unknown sources'):
        MultiSourceBatchSampler(sampler, batch_sizes=dict(z=2))
    with pytest.raises(ValueError, match='mode'):
        MultiSourceBatchSampler(sampler, mode='random')
    with pytest.raises(ValueError, match='fewer than its batch size'):
        MultiSourceBatchSampler(sampler, batch_sizes=dict(c=8))
    with pytest.raises(TypeError, match='MultiSourceDataset'):
        MultiSourceSampler(_Range(3), seed=0)
    with pytest.raises(ValueError, match='rank'):
        MultiSourceSampler(dataset, seed=0, rank=2, world_size=2)


def _point_to(cfg_dict, root):
    """Replace the configs' ``data/shapesworld/`` prefix with the generated ShapesWorld."""
    if isinstance(cfg_dict, dict):
        return {k: _point_to(v, root) for k, v in cfg_dict.items()}
    if isinstance(cfg_dict, list):
        return [_point_to(v, root) for v in cfg_dict]
    if isinstance(cfg_dict, str) and cfg_dict.startswith('data/shapesworld/'):
        return osp.join(root, cfg_dict[len('data/shapesworld/'):])
    return cfg_dict


@pytest.mark.parametrize('mode', ['round_robin', 'joint'])
def test_joint_config_on_shapesworld(shapesworld_root, mode):
    cfg = Config.fromfile(JOINT_CONFIG)
    loader_cfg = _point_to(cfg.to_dict()['train_dataloader'], shapesworld_root)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader_cfg['batch_sampler']['mode'] = mode
    import mmgen_vision.datasets  # noqa: F401 (registers the types)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        iterator = iter(loader)
        batches = [next(iterator) for _ in range(3 if mode == 'round_robin' else 1)]
    assert loader.dataset.metainfo['classes'][0] == 'circle'  # the first source's (panoptic)
    assert loader.dataset.metainfo['sources'] == ('panoptic', 'referring', 'caption')
    sizes = loader.dataset.source_sizes  # 64 panoptic scenes, captioned 5x, refs per image
    assert sizes[0] == 64 and sizes[2] == 5 * 64
    if mode == 'joint':  # one epoch = one pass over the panoptic scenes in batches of 4
        assert len(loader) == 64 // 4
    else:  # every source once per epoch, each in batches of its own size
        assert len(loader) == 64 // 4 + sizes[1] // 4 + sizes[2] // 8
    samples = [s for batch in batches for s in batch['data_samples']]
    inputs = [img for batch in batches for img in batch['inputs']]
    sources = [s.source for s in samples]
    assert sources == ['panoptic'] * 4 + ['referring'] * 4 + ['caption'] * 8
    assert [s.task for s in samples] == sources
    for img, sample in zip(inputs, samples):
        h, w = img.shape[-2:]
        if sample.source == 'caption':  # image-text pairs at their own (lower) resolution
            assert (h, w) == (64, 64)
            assert sample.caption_tokens.shape == (77, )
            assert int(sample.caption_mask.sum()) >= 4  # SOT, words..., EOT
        elif sample.source == 'panoptic':  # LSJ crops of at most 96 px
            assert max(h, w) <= 96
            assert len(sample.gt_instances.labels) == len(sample.gt_instances.masks) > 0
        else:  # referring images resized around 96 px, one phrase per expression
            assert 72 <= max(h, w) <= 120
            num = len(sample.gt_instances.masks)
            assert num == len(sample.text) == sample.grd_tokens.shape[0] > 0
            assert sample.gt_instances.labels.tolist() == [0] * num
            assert sample.gt_instances.masks.masks.shape[-2:] == (h, w)


def test_shapesworld_sharding_and_determinism(shapesworld_root):
    cfg = Config.fromfile(JOINT_CONFIG)
    dataset_cfg = _point_to(cfg.to_dict()['train_dataloader']['dataset'], shapesworld_root)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        dataset = DATASETS.build(dataset_cfg)
    sizes = dict(zip(dataset.source_names, dataset.source_sizes))
    kwargs = dict(mode='round_robin', drop_last=False,
                  batch_sizes=dict(panoptic=4, referring=4, caption=8))
    # 2 simulated ranks: every sample of every source exactly once (64 scenes, 5 x 64
    # captions; the referring source is padded by one repeat if its size is odd)
    shards = [[i for b in _batches(dataset, rank=r, world_size=2, seed=0, epoch=1, **kwargs)
               for i in b] for r in range(2)]
    counts = Counter(shards[0] + shards[1])
    assert set(counts) == set(range(len(dataset)))
    assert sum(counts.values()) == len(dataset) + sizes['referring'] % 2
    # deterministic for a seed and an epoch, reshuffled by either
    assert _batches(dataset, seed=0, epoch=1, **kwargs) == _batches(dataset, seed=0, epoch=1,
                                                                    **kwargs)
    assert _batches(dataset, seed=0, epoch=1, **kwargs) != _batches(dataset, seed=0, epoch=2,
                                                                    **kwargs)
    assert _batches(dataset, seed=0, epoch=1, **kwargs) != _batches(dataset, seed=1, epoch=1,
                                                                    **kwargs)
