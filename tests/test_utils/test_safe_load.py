# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Pickled data files are unpickled without running code (issue 13, part 1)."""
import importlib.util
import json
import os
import os.path as osp
import pickle

import mmengine
import pytest
from mmengine.config import Config

from mmgen_vision.utils import (PickleFileError, UnsafePickleError, register_all_modules,
                                safe_pickle_load)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

REFS = [
    dict(ref_id=0, ann_id=10, image_id=1, category_id=1, split='val', file_name='a.jpg',
         sent_ids=[0], sentences=[dict(sent_id=0, raw='The red circle', sent='the red circle',
                                       tokens=['the', 'red', 'circle'])]),
    dict(ref_id=1, ann_id=10, image_id=1, category_id=1, split='train', file_name='a.jpg',
         sent_ids=[1], sentences=[dict(sent_id=1, raw='left shape', sent='left shape',
                                       tokens=['left', 'shape'])]),
]
INSTANCES = dict(
    images=[dict(id=1, file_name='a.jpg', height=8, width=8)],
    annotations=[dict(id=10, image_id=1, category_id=1, bbox=[0, 0, 4, 4], area=16.0,
                      iscrowd=0, segmentation=[[0, 0, 4, 0, 4, 4, 0, 4]])],
    categories=[dict(id=1, name='circle')])


class _Payload:
    """Unpickling this runs ``exec``, which creates ``path``: what a crafted refs file does."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return exec, (f'open({self.path!r}, "w").close()', )


class _SystemPayload(_Payload):
    """The classic: ``os.system`` from the pickle."""

    def __reduce__(self):
        return os.system, (f'touch {self.path}', )


def _write_pickle(path, obj, protocol=pickle.DEFAULT_PROTOCOL) -> str:
    path = str(path)
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


@pytest.fixture
def evil_refs(tmp_path):
    """A refs file holding a payload (after the plain refs), and the sentinel it would create."""
    sentinel = str(tmp_path / 'pwned')
    path = _write_pickle(tmp_path / 'refs(unc).p', REFS + [_Payload(sentinel)])
    return path, sentinel


def test_the_payload_runs_with_plain_pickle(evil_refs):
    """The fixture is a real attack: the stock unpickler creates the sentinel."""
    path, sentinel = evil_refs
    with open(path, 'rb') as f:
        pickle.load(f)
    assert osp.exists(sentinel)


@pytest.mark.parametrize('payload', [_Payload, _SystemPayload])
def test_payload_is_refused_naming_file_and_global(tmp_path, payload):
    sentinel = str(tmp_path / 'pwned')
    path = _write_pickle(tmp_path / 'refs(unc).p', dict(refs=REFS, hook=payload(sentinel)))
    with pytest.raises(UnsafePickleError) as info:
        safe_pickle_load(path)
    message = str(info.value)
    assert path in message
    assert ('builtins.exec' if payload is _Payload else 'system') in message
    assert not osp.exists(sentinel)


@pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
def test_builtin_containers_and_scalars_round_trip(tmp_path, protocol):
    data = dict(refs=REFS, tags={'a', 'b'}, frozen=frozenset({1, 2}), pair=(1, 2.5),
                z=1 + 2j, raw=b'\x00\xff', buf=bytearray(b'xy'), big=2**70, flag=True, none=None)
    path = _write_pickle(tmp_path / f'data{protocol}.pkl', data, protocol)
    assert safe_pickle_load(path) == data
    with open(path, 'rb') as f:  # an open file is named by its path too
        assert safe_pickle_load(f) == data


def test_python2_pickles_load(tmp_path):
    # protocol 2 as Python 2 writes it: ``__builtin__.set`` and a py2 ``str`` (SHORT_BINSTRING)
    py2 = (b'\x80\x02]q\x00(}q\x01U\x05splitq\x02U\x03valq\x03sc__builtin__\nset\nq\x04]q\x05'
           b'K\x01a\x85q\x06Rq\x07e.')
    path = tmp_path / 'refs(unc).p'
    path.write_bytes(py2)
    assert safe_pickle_load(str(path)) == [dict(split='val'), {1}]


def test_other_classes_are_refused_even_harmless_ones(tmp_path):
    import collections
    path = _write_pickle(tmp_path / 'od.pkl', collections.OrderedDict(a=1))
    with pytest.raises(UnsafePickleError, match=r'od\.pkl.*collections\.OrderedDict'):
        safe_pickle_load(path)


def test_empty_truncated_and_foreign_files_name_the_file(tmp_path):
    empty = tmp_path / 'empty.p'
    empty.write_bytes(b'')
    with pytest.raises(PickleFileError, match=r'empty\.p: the file is empty'):
        safe_pickle_load(str(empty))
    whole = pickle.dumps(REFS, protocol=4)
    truncated = tmp_path / 'truncated.p'
    truncated.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(PickleFileError, match=r'truncated\.p'):
        safe_pickle_load(str(truncated))
    foreign = tmp_path / 'instances.json'
    foreign.write_text(json.dumps(INSTANCES))
    with pytest.raises(PickleFileError, match=r'instances\.json.*not a pickle'):
        safe_pickle_load(str(foreign))
    with pytest.raises(FileNotFoundError, match='missing'):
        safe_pickle_load(str(tmp_path / 'missing.p'))


def test_mmengine_load_of_pickles_is_restricted(evil_refs, tmp_path):
    """``mmengine.load(..., 'pkl')``, as stock datasets call it, goes through the same check;
    dumping (``tools/test.py --out``) is unchanged."""
    path, sentinel = evil_refs
    with pytest.raises(UnsafePickleError, match='builtins.exec'):
        mmengine.load(path, file_format='pkl')
    with open(path, 'rb') as f:
        with pytest.raises(UnsafePickleError, match=r'refs\(unc\)\.p.*builtins\.exec'):
            mmengine.load(f, file_format='pkl')
    assert not osp.exists(sentinel)
    out = str(tmp_path / 'preds.pkl')
    mmengine.dump(dict(a=[1, 2]), out)
    assert mmengine.load(out) == dict(a=[1, 2])


def _refcoco_root(tmp_path, refs) -> str:
    root = tmp_path / 'refcoco'
    (root / 'refcoco').mkdir(parents=True)
    (root / 'refcoco' / 'instances.json').write_text(json.dumps(INSTANCES))
    _write_pickle(root / 'refcoco' / 'refs(unc).p', refs)
    return str(root)


def test_refcoco_seg_dataset_refuses_a_crafted_split_file(tmp_path):
    from mmgen_vision.datasets.refcoco_seg import RefCocoSegDataset
    kwargs = dict(ann_file='refcoco/instances.json', split_file='refcoco/refs(unc).p',
                  data_prefix=dict(img_path='train2014/'), split='val')
    good = RefCocoSegDataset(data_root=_refcoco_root(tmp_path / 'good', REFS), **kwargs)
    assert [item['text'] for item in good] == ['the red circle']
    sentinel = str(tmp_path / 'pwned')
    root = _refcoco_root(tmp_path / 'evil', REFS + [_Payload(sentinel)])
    with pytest.raises(UnsafePickleError) as info:
        RefCocoSegDataset(data_root=root, **kwargs)
    assert osp.join(root, 'refcoco/refs(unc).p') in str(info.value)
    assert 'builtins.exec' in str(info.value)
    assert not osp.exists(sentinel)


def test_stock_refcoco_dataset_of_our_configs_is_protected(tmp_path):
    """The X-Decoder referring configs train on ``mmdet.RefCocoDataset`` (it unpickles the
    split file with ``mmengine.load``): built from the config, it refuses the payload."""
    from mmengine.registry import DATASETS
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs/_base_/datasets/xdecoder_shapesworld_refcoco.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg = dataset_cfg.get('dataset', dataset_cfg)
    assert dataset_cfg.type == 'mmdet.RefCocoDataset'
    sentinel = str(tmp_path / 'pwned')
    dataset_cfg.update(data_root=_refcoco_root(tmp_path, REFS + [_Payload(sentinel)]),
                       ann_file='refcoco/instances.json', split_file='refcoco/refs(unc).p',
                       pipeline=[])
    with pytest.raises(UnsafePickleError, match='builtins.exec') as info:
        DATASETS.build(dataset_cfg)
    # the error names the file (issue 13): mmengine.load hands the handler an anonymous stream
    assert f'pickle file {osp.join(dataset_cfg.data_root, "refcoco/refs(unc).p")}' in str(
        info.value)
    assert not osp.exists(sentinel)


def test_tiny_text2img_script_reads_refs_safely(tmp_path):
    """``tools/misc/train_tiny_text2img.py`` reads ShapesWorld's refs with the safe loader."""
    spec = importlib.util.spec_from_file_location(
        'train_tiny_text2img', osp.join(REPO_ROOT, 'tools/misc/train_tiny_text2img.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    data_dir = str(tmp_path / 'sw')  # a 2-scene ShapesWorld, generated by the script
    coco_root = tool.prepare_data(tool.parse_args(
        ['--data-dir', data_dir, '--num-train', '2', '--num-val', '1', '--image-size', '64']))
    refs_file = osp.join(data_dir, 'refcoco', 'refcoco', 'refs(unc).p')
    refs = safe_pickle_load(refs_file)
    sentinel = str(tmp_path / 'pwned')
    _write_pickle(refs_file, refs + [_Payload(sentinel)])
    with pytest.raises(UnsafePickleError, match=r'refs\(unc\)\.p.*builtins\.exec'):
        tool.load_data(coco_root, 32, data_dir)
    assert not osp.exists(sentinel)


def test_codecs_encode_is_resolved_only_for_latin1_bytes(tmp_path):
    # protocols 0-2 write bytes as _codecs.encode(<str>, 'latin1'); other codecs are refused
    forged = b'c_codecs\nencode\n(Vabc\nVrot13\ntR.'
    path = tmp_path / 'forged.p'
    path.write_bytes(forged)
    assert pickle.loads(forged) == 'nop'  # the stock unpickler runs any codec
    with pytest.raises(PickleFileError, match=r"forged\.p.*encode\(str, 'rot13'\) is not allowed"):
        safe_pickle_load(str(path))


def test_persistent_ids_are_refused(tmp_path):
    path = tmp_path / 'persistent.p'
    path.write_bytes(b'(lp0\nPsome_external_object\na.')  # [<persistent 'some_external_object'>]
    with pytest.raises(UnsafePickleError, match=r"persistent\.p.*'some_external_object'"):
        safe_pickle_load(str(path))
