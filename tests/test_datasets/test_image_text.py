# Copyright (c) mmgen_vision contributors. All rights reserved.
import csv
import glob
import io
import json
import os.path as osp
import shutil
import tarfile

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.structures import BaseDataElement

from conftest import REPO_ROOT, run_tool
from mmgen_vision.datasets import image_text as image_text_module
from mmgen_vision.datasets.image_text import (ImageTextListDataset, ImageTextShardDataset,
                                              expand_braces, read_bytes, split_member_name)
from mmgen_vision.datasets.transforms.image_text import (PROMPT_TEMPLATES, ExtractNouns,
                                                         LoadImageFromShard, PromptNouns,
                                                         RandomResizedCropImage, TokenizeText)
from mmgen_vision.datasets.transforms.nouns import extract_nouns, load_noun_list

SOT, EOT = 49406, 49407
SHAPESWORLD_CONFIG = osp.join(REPO_ROOT, 'configs/_base_/datasets/shapesworld_image_text.py')


def _shards(root):
    return osp.join(root, 'shards')


def _tar_texts(path):
    """``{key: caption}`` and ``{key: image bytes}`` of a shard, read with plain tarfile."""
    texts, images = {}, {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            key, ext = osp.splitext(member.name)
            data = tar.extractfile(member).read()
            if ext == '.txt':
                texts[key] = data.decode('utf-8').strip()
            else:
                images[key] = data
    return texts, images


def _write_tar(path, members):
    with tarfile.open(path, 'w', format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope='module')
def train_dataset(shapesworld_root):
    return ImageTextShardDataset(data_root=_shards(shapesworld_root), shards='train.json')


def test_shard_dataset_matches_index_and_tar_members(shapesworld_root, train_dataset):
    root = _shards(shapesworld_root)
    with open(osp.join(root, 'train.json')) as f:
        index = json.load(f)
    assert len(train_dataset) == index['num_samples'] == sum(
        s['num_samples'] for s in index['shards'])
    expected = {}
    for shard in index['shards']:
        texts, images = _tar_texts(osp.join(root, shard['name']))
        for key, text in texts.items():
            expected[key] = (text, images[key])
    loader = LoadImageFromShard()
    seen = set()
    for idx in range(len(train_dataset)):
        info = train_dataset.get_data_info(idx)
        text, img_bytes = expected[info['key']]
        assert info['text'] == text
        assert info['img_path'].endswith(f'.tar/{info["key"]}.jpg')
        assert read_bytes(info['shard'], info['img_offset'], info['img_size']) == img_bytes
        results = loader(dict(info))
        assert results['img'].shape == (96, 96, 3) and results['img'].dtype == np.uint8
        np.testing.assert_array_equal(results['img'], mmcv.imfrombytes(img_bytes))
        seen.add(info['key'])
    assert seen == set(expected)
    # the other ways of naming shards give the same samples
    by_glob = ImageTextShardDataset(data_root=root, shards='train-*.tar')
    by_list = ImageTextShardDataset(data_root=root,
                                    shards=[s['name'] for s in index['shards']])
    n = len(index['shards']) - 1
    by_range = ImageTextShardDataset(data_root=root, shards=f'train-{{000000..{n:06d}}}.tar')
    for other in (by_glob, by_list, by_range):
        assert [other.get_data_info(i)['key'] for i in range(len(other))] == \
            [train_dataset.get_data_info(i)['key'] for i in range(len(train_dataset))]


def test_index_cache_is_reused(shapesworld_root, tmp_path, monkeypatch):
    root = _shards(shapesworld_root)
    cache = str(tmp_path / 'cache' / 'index.json')
    first = ImageTextShardDataset(data_root=root, shards='val.json', index_cache=cache)
    assert osp.isfile(cache)

    def fail(path):
        raise AssertionError(f'{path} was re-indexed although the cache is valid')

    monkeypatch.setattr(image_text_module, 'index_tar', fail)
    second = ImageTextShardDataset(data_root=root, shards='val.json', index_cache=cache)
    assert [second.get_data_info(i) for i in range(len(second))] == \
        [first.get_data_info(i) for i in range(len(first))]


def test_default_sampler_world_size_two_covers_each_sample_once(train_dataset, monkeypatch):
    import mmengine.dataset.sampler as sampler_module
    n = len(train_dataset)

    def epoch_orders(epoch):
        orders = []
        for rank in range(2):
            monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, 2))
            sampler = DefaultSampler(train_dataset, shuffle=True, seed=0)
            sampler.set_epoch(epoch)
            orders.append(list(sampler))
            assert len(sampler) == n // 2
        return orders

    epoch0, epoch1 = epoch_orders(0), epoch_orders(1)
    for ranks in (epoch0, epoch1):
        assert not set(ranks[0]) & set(ranks[1])
        assert sorted(ranks[0] + ranks[1]) == list(range(n))
    assert epoch0 != epoch1  # set_epoch reshuffles
    assert epoch_orders(0) == epoch0  # and is deterministic


def test_pipeline_output_format(shapesworld_root):
    cfg = Config.fromfile(SHAPESWORLD_CONFIG)
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'
    assert not any('Flip' in t['type'] for t in cfg.train_pipeline)
    from mmengine.registry import init_default_scope
    init_default_scope('mmgen_vision')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = ImageTextShardDataset(data_root=_shards(shapesworld_root),
                                    shards=dataset_cfg.shards, pipeline=dataset_cfg.pipeline)
    for idx in (0, 5, 63):
        out = dataset[idx]
        assert set(out) == {'inputs', 'data_samples'}
        inputs, sample = out['inputs'], out['data_samples']
        assert inputs.dtype == torch.uint8 and inputs.shape == (3, 96, 96)
        assert isinstance(sample, BaseDataElement)
        assert sample.text == dataset.get_data_info(idx)['text']
        assert sample.img_path.endswith('.jpg')
        assert sample.text_ids.dtype == torch.long and sample.text_ids.shape == (77, )
        assert sample.text_ids[0] == SOT and (sample.text_ids == EOT).sum() == 1
        ml = sample.multi_label_ids
        assert ml.dtype == torch.long and ml.shape == (3, 77)
        assert (ml[:, 0] == SOT).all() and ((ml == EOT).sum(dim=1) == 1).all()
        eot = (ml == EOT).int().argmax(dim=1)
        for row, pos in enumerate(eot.tolist()):
            assert (ml[row, pos + 1:] == 0).all()  # zero padding
        assert 1 <= len(sample.nouns) <= 3
        assert set(sample.nouns) <= set(extract_nouns(sample.text))
        assert len(sample.multi_label_texts) == 3
        for text, noun in zip(sample.multi_label_texts, sample.nouns):
            assert noun in text and text != noun


def test_noun_extraction_and_prompts():
    assert set(extract_nouns('a large red circle left of a blue square')) == {'circle', 'square'}
    assert extract_nouns('Three coloured shapes and a stick figure of a person on the sand.') == \
        ['shape', 'stick', 'figure', 'person', 'sand']
    assert extract_nouns('Two dogs chase an orange ball; leaves fall on the benches') == \
        ['dog', 'ball', 'leaf', 'bench']
    assert extract_nouns('an orange cat next to an orange') == ['cat', 'orange']
    assert extract_nouns('a man wearing glasses and jeans') == ['man', 'glasses', 'jeans']
    assert extract_nouns('a beautiful red and blue view') == []
    assert len(load_noun_list()) > 2000
    assert len(PROMPT_TEMPLATES) == 80 and all(t.count('{}') == 1 for t in PROMPT_TEMPLATES)

    caption = 'a small circle'
    results = ExtractNouns(num_nouns=3)(dict(text=caption))
    assert results['nouns'] == ['circle']
    assert results['multi_label_texts'] == ['circle', caption, caption]
    results = PromptNouns(templates=['a photo of a {}.'])(results)
    assert results['multi_label_texts'] == ['a photo of a circle.', caption, caption]
    results = PromptNouns(templates=['a photo of a {}.'])(
        dict(multi_label_texts=['apple'], multi_label_is_noun=[True]))
    assert results['multi_label_texts'] == ['a photo of an apple.']

    np.random.seed(0)
    many = 'a dog, a cat, a horse, a cow and a sheep on grass'
    draws = {tuple(sorted(ExtractNouns(3)(dict(text=many))['nouns'])) for _ in range(30)}
    assert all(len(set(d)) == 3 for d in draws) and len(draws) > 1

    tokens = TokenizeText()(dict(text=caption, multi_label_texts=['x', 'y', 'z']))
    assert tokens['text_ids'].shape == (77, ) and tokens['multi_label_ids'].shape == (3, 77)


def test_random_resized_crop_image():
    np.random.seed(0)
    img = np.random.randint(0, 255, (60, 90, 3), dtype=np.uint8)
    out = RandomResizedCropImage(size=32)(dict(img=img))
    assert out['img'].shape == (32, 32, 3) and out['img_shape'] == (32, 32)


def _make_list(shapesworld_root, tmp_path, name='list.csv', count=7):
    images = sorted(glob.glob(osp.join(shapesworld_root, 'coco', 'train2017', '*.jpg')))[:count]
    img_dir = tmp_path / 'imgs'
    img_dir.mkdir(exist_ok=True)
    rows = []
    for i, src in enumerate(images):
        shutil.copy(src, img_dir / osp.basename(src))
        rows.append((f'imgs/{osp.basename(src)}', f'Scene {i}, with "quotes", commas and é'))
    path = tmp_path / name
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['image', 'caption'])
        writer.writerows(rows)
    return str(path), rows


def _converter():
    from importlib import util
    spec = util.spec_from_file_location(
        'images_to_shards', osp.join(REPO_ROOT, 'tools/dataset_converters/images_to_shards.py'))
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_round_trip(shapesworld_root, tmp_path):
    list_file, rows = _make_list(shapesworld_root, tmp_path)
    out = str(tmp_path / 'out')
    proc = run_tool(['tools/dataset_converters/images_to_shards.py', list_file, out,
                     '--samples-per-shard', '3', '--split', 'mine'])
    assert 'wrote 7 samples in 3 shards' in proc.stdout
    with open(osp.join(out, 'mine.json')) as f:
        index = json.load(f)
    assert [s['num_samples'] for s in index['shards']] == [3, 3, 1]
    assert [s['name'] for s in index['shards']] == [f'mine-{i:06d}.tar' for i in range(3)]

    shards = ImageTextShardDataset(data_root=out, shards='mine.json')
    listed = ImageTextListDataset(ann_file=list_file, data_root=str(tmp_path))
    assert len(shards) == len(listed) == len(rows)
    loader = LoadImageFromShard()
    for i, (image, caption) in enumerate(rows):
        info = shards.get_data_info(i)
        assert info['key'] == f'{i:09d}'
        assert info['text'] == caption == listed.get_data_info(i)['text']
        with open(tmp_path / image, 'rb') as f:
            assert read_bytes(info['shard'], info['img_offset'], info['img_size']) == f.read()
        np.testing.assert_array_equal(loader(dict(info))['img'],
                                      loader(listed.get_data_info(i))['img'])

    # deterministic: converting again gives byte-identical shards
    module = _converter()
    again = str(tmp_path / 'again')
    module.images_to_shards(list_file, again, split='mine', samples_per_shard=3)
    for shard in index['shards']:
        with open(osp.join(out, shard['name']), 'rb') as a, \
                open(osp.join(again, shard['name']), 'rb') as b:
            assert a.read() == b.read()

    # JSON lists read the same
    json_list = tmp_path / 'list.json'
    json_list.write_text(json.dumps([dict(image=i, caption=c) for i, c in rows]))
    from_json = ImageTextListDataset(ann_file=str(json_list), data_root=str(tmp_path))
    assert [from_json.get_data_info(i)['text'] for i in range(len(rows))] == \
        [c for _, c in rows]


def test_errors_name_the_file(shapesworld_root, tmp_path):
    good = osp.join(_shards(shapesworld_root), 'val-000000.tar')
    # unreadable tar
    garbage = tmp_path / 'garbage-000000.tar'
    garbage.write_bytes(b'this is not a tar archive' * 40)
    with pytest.raises(ValueError, match='garbage-000000.tar'):
        ImageTextShardDataset(shards=[str(garbage)])
    # truncated tar
    truncated = tmp_path / 'truncated-000000.tar'
    with open(good, 'rb') as f:
        truncated.write_bytes(f.read()[:20000])
    with pytest.raises(ValueError, match='truncated-000000.tar'):
        ImageTextShardDataset(shards=[str(truncated)])
    # missing shard
    with pytest.raises(FileNotFoundError, match='nope-000000.tar'):
        ImageTextShardDataset(data_root=str(tmp_path), shards=['nope-000000.tar'])
    # image without caption
    with open(good, 'rb') as f:
        jpg = f.read()[512:512 + 100]
    no_caption = tmp_path / 'nocap-000000.tar'
    _write_tar(no_caption, [('a.jpg', jpg), ('a.txt', b'fine'), ('b.jpg', jpg)])
    with pytest.raises(ValueError, match=r'nocap-000000.tar.*b\.jpg has no caption'):
        ImageTextShardDataset(shards=[str(no_caption)])
    # corrupt image: indexing works, decoding names shard and key
    corrupt = tmp_path / 'corrupt-000000.tar'
    _write_tar(corrupt, [('k1.jpg', b'\xff\xd8 definitely not a jpeg'), ('k1.txt', b'a dog')])
    dataset = ImageTextShardDataset(shards=[str(corrupt)], pipeline=[LoadImageFromShard()])
    assert dataset.get_data_info(0)['text'] == 'a dog'
    with pytest.raises(ValueError, match=r"'k1'.*corrupt-000000.tar"):
        dataset[0]
    # index disagreeing with the tar
    (tmp_path / 'bad.json').write_text(json.dumps(
        dict(shards=[dict(name=str(corrupt), num_samples=5)])))
    with pytest.raises(ValueError, match='corrupt-000000.tar holds 1 samples'):
        ImageTextShardDataset(data_root=str(tmp_path), shards='bad.json')
    # missing image of a list
    list_file, rows = _make_list(shapesworld_root, tmp_path, count=3)
    with open(list_file, 'a', newline='') as f:
        csv.writer(f).writerow(['imgs/missing.jpg', 'gone'])
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        ImageTextListDataset(ann_file=list_file, data_root=str(tmp_path))
    with pytest.raises(SystemExit, match='missing.jpg'):  # the converter's CLI, in-process
        _converter().main([list_file, str(tmp_path / 'o')])
    assert not glob.glob(str(tmp_path / 'o' / '*.tar'))


def test_key_helpers():
    assert split_member_name('dir/0001.seg.PNG') == ('dir/0001', 'seg.png')
    assert split_member_name('000000001.jpg') == ('000000001', 'jpg')
    assert expand_braces('a-{08..10}.tar') == ['a-08.tar', 'a-09.tar', 'a-10.tar']
