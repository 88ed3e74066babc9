# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/dataset_converters/karpathy_to_coco_captions.py: split file -> COCO-captions jsons that
CocoCaptionDataset reads."""
import json
import os.path as osp

from conftest import run_tool

KARPATHY = dict(images=[
    dict(filepath='val2014', filename='a.jpg', cocoid=7, split='test',
         sentences=[dict(raw='A red circle. '), dict(raw='a circle')]),
    dict(filepath='train2014', filename='b.jpg', cocoid=3, split='train',
         sentences=[dict(raw='two squares')]),
    dict(filepath='val2014', filename='c.jpg', cocoid=9, split='restval',
         sentences=[dict(raw='a star')]),
    dict(filepath='val2014', filename='d.jpg', cocoid=11, split='val',
         sentences=[dict(raw='a person')]),
])


def test_splits_restval_and_reading_back(tmp_path):
    src = tmp_path / 'dataset_coco.json'
    src.write_text(json.dumps(KARPATHY))
    out = tmp_path / 'ann'
    run_tool(['tools/dataset_converters/karpathy_to_coco_captions.py', str(src), str(out)])
    train = json.loads((out / 'captions_karpathy_train.json').read_text())
    test = json.loads((out / 'captions_karpathy_test.json').read_text())
    assert train['images'] == [dict(id=3, file_name='train2014/b.jpg'),
                               dict(id=9, file_name='val2014/c.jpg')]  # restval -> train
    assert [a['caption'] for a in test['annotations']] == ['A red circle.', 'a circle']
    ids = [a['id'] for s in ('train', 'val', 'test')
           for a in json.loads((out / f'captions_karpathy_{s}.json').read_text())['annotations']]
    assert sorted(ids) == [1, 2, 3, 4, 5]

    from mmgen_vision.datasets import CocoCaptionDataset
    dataset = CocoCaptionDataset(ann_file=str(out / 'captions_karpathy_test.json'),
                                 data_root=str(tmp_path), sample_per='image', lazy_init=False,
                                 data_prefix=dict(img_path='coco/'))
    assert len(dataset) == 1
    info = dataset[0]
    assert info['img_path'] == osp.join(str(tmp_path), 'coco/', 'val2014/a.jpg')
    assert info['captions'] == ['A red circle.', 'a circle']


def test_restval_dropped_and_bad_files_named(tmp_path):
    src = tmp_path / 'dataset_coco.json'
    src.write_text(json.dumps(KARPATHY))
    out = tmp_path / 'ann'
    run_tool(['tools/dataset_converters/karpathy_to_coco_captions.py', str(src), str(out),
              '--restval-to', 'none'])
    train = json.loads((out / 'captions_karpathy_train.json').read_text())
    assert [i['id'] for i in train['images']] == [3]

    broken = dict(images=[dict(filepath='val2014', filename='x.jpg', split='test')])
    src.write_text(json.dumps(broken))
    proc = run_tool(['tools/dataset_converters/karpathy_to_coco_captions.py', str(src),
                     str(out)], check=False)
    assert proc.returncode != 0
    assert "images[0] lacks ['cocoid', 'sentences']" in proc.stderr
