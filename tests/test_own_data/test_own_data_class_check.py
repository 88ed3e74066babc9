# Copyright (c) mmgen_vision contributors. All rights reserved.
"""One source of truth for classes (issue 15): every class-sized setting is compared with the
dataset's ``metainfo['classes']`` before the first iteration, and a mismatch names both places
and the key to change."""
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import REPO_ROOT, run_tool
from mmgen_vision.datasets import SegFolderDataset, ShapesWorldSegDataset
from mmgen_vision.engine.hooks import ClassConsistencyHook, ClassMismatchError, check_classes
from mmgen_vision.registry import DATASETS
from mmgen_vision.utils import register_all_modules
from own_data_utils import OWN_CLASSES, make_seg_folder

GLID_SEG = osp.join(REPO_ROOT, 'configs/glid/glid_toy_shapesworld-ade-semseg.py')
GLID_DET = osp.join(REPO_ROOT, 'configs/glid/glid_toy_shapesworld-coco-det.py')
PAINTER_SEMSEG = osp.join(REPO_ROOT,
                          'configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py')
XDECODER_OPENVOCAB = osp.join(REPO_ROOT,
                              'configs/xdecoder/xdecoder_toy_shapesworld-openvocab-test.py')


@pytest.fixture(scope='module', autouse=True)
def scope():
    register_all_modules(init_default_scope=False)
    init_default_scope('mmgen_vision')


@pytest.fixture(scope='module')
def own_seg(shapesworld_root, tmp_path_factory):
    return make_seg_folder(shapesworld_root, str(tmp_path_factory.mktemp('own_seg')))


def _own_dataset(root, split='train', **kwargs):
    return SegFolderDataset(data_root=root, img_dir=f'images/{split}',
                            mask_dir=f'masks/{split}', **kwargs)


def _write_config(tmp_path, text: str) -> str:
    path = tmp_path / 'my_config.py'
    path.write_text(text)
    return str(path)


def _glid_child(own_seg, model: str = '', extra: str = '') -> str:
    return (f"_base_ = ['{GLID_SEG}']\n"
            "train_dataloader = dict(dataset=dict(_delete_=True, type='SegFolderDataset', "
            f"data_root='{own_seg}', img_dir='images/train', mask_dir='masks/train', "
            "pipeline={{_base_.train_pipeline}}))\n"
            "val_dataloader = dict(dataset=dict(_delete_=True, type='SegFolderDataset', "
            f"data_root='{own_seg}', img_dir='images/val', mask_dir='masks/val', "
            "pipeline={{_base_.test_pipeline}}))\n"
            "test_dataloader = val_dataloader\n"
            "model = dict(pretrained=None" + (', ' + model if model else '') + ")\n" + extra)


def test_glid_seven_class_head_on_five_class_data_is_refused(own_seg, tmp_path):
    cfg = Config.fromfile(_write_config(tmp_path, _glid_child(own_seg)))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    message = str(err.value)
    assert 'model.seg_head.num_classes=7' in message and 'has 5 classes' in message
    assert 'ball' in message and 'Set model.seg_head.num_classes=5' in message


def test_top_level_num_classes_knob_that_does_nothing_is_refused(own_seg, tmp_path):
    # the child config: num_classes = 5 at the top level only, on the 5-class data
    text = _glid_child(own_seg, extra='num_classes = 5\n')
    cfg = Config.fromfile(_write_config(tmp_path, text))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    assert 'model.seg_head.num_classes=7' in str(err.value)
    assert 'the top-level num_classes = 5 does not reach the model' in str(err.value)
    # ... and on the 7-class toy data, where the head is right but the knob did nothing
    cfg = Config.fromfile(_write_config(tmp_path, f"_base_ = ['{GLID_SEG}']\nnum_classes = 5\n"))
    toy = ShapesWorldSegDataset(data_root=own_seg, lazy_init=True)
    with pytest.raises(ClassMismatchError, match='num_classes is a variable of the config'):
        check_classes(cfg, toy, 'train_dataloader.dataset')


def test_class_weight_length_names_the_loss_key(own_seg, tmp_path):
    # 5-class head, but the base's 7 + 1 class weights: the RuntimeError, now named
    text = _glid_child(own_seg, model='seg_head=dict(num_classes=5)')
    cfg = Config.fromfile(_write_config(tmp_path, text))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    assert 'model.seg_head.loss_cls.class_weight has 8 entries' in str(err.value)
    assert 'to 6 entries' in str(err.value) and '[1.0] * 5 + [0.1]' in str(err.value)


def test_consistent_own_config_passes(own_seg, tmp_path):
    text = _glid_child(own_seg, model='seg_head=dict(num_classes=5, '
                       'loss_cls=dict(class_weight=[1.0] * 5 + [0.1]))')
    cfg = Config.fromfile(_write_config(tmp_path, text))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert check_classes(cfg, dataset, 'train_dataloader.dataset') == []


def test_the_runner_stops_before_the_first_iteration(own_seg, tmp_path):
    config = _write_config(tmp_path, _glid_child(own_seg))
    proc = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'work')],
                    check=False, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'ClassMismatchError' in out and 'model.seg_head.num_classes=7' in out
    assert 'Iter(train)' not in out


def test_checked_runner_registers_the_hook(own_seg, tmp_path):
    from mmgen_vision.engine import CheckedRunner
    text = _glid_child(own_seg, model='seg_head=dict(num_classes=5, '
                       'loss_cls=dict(class_weight=[1.0] * 5 + [0.1]))')
    cfg = Config.fromfile(_write_config(tmp_path, text))
    cfg.work_dir = str(tmp_path / 'work')
    runner = CheckedRunner.from_cfg(cfg)
    assert sum(isinstance(h, ClassConsistencyHook) for h in runner.hooks) == 1


def _coco_three_categories(tmp_path) -> str:
    """A COCO instances json with 3 categories at ids 10 / 20 / 30 (no image is read)."""
    ann = dict(
        images=[dict(id=1, file_name='a.png', width=32, height=32)],
        annotations=[dict(id=1, image_id=1, category_id=20, bbox=[1, 1, 10, 10], area=100,
                          iscrowd=0, segmentation=[[1, 1, 11, 1, 11, 11, 1, 11]])],
        categories=[dict(id=10, name='ball'), dict(id=20, name='crate'),
                    dict(id=30, name='pyramid')])
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps(ann))
    return str(path)


def test_five_class_detection_head_on_three_class_coco_is_refused(tmp_path):
    ann = _coco_three_categories(tmp_path)
    text = (f"_base_ = ['{GLID_DET}']\n"
            "train_dataloader = dict(dataset=dict(data_root='', "
            f"ann_file='{ann}', data_prefix=dict(img='{tmp_path}/'), "
            "metainfo=dict(classes=('ball', 'crate', 'pyramid'))))\n"
            "model = dict(bbox_head=dict(num_classes=5))\n")
    cfg = Config.fromfile(_write_config(tmp_path, text))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    assert 'model.bbox_head.num_classes=5' in str(err.value)
    assert 'has 3 classes (ball, crate, pyramid' in str(err.value)


def _coco_det_config(tmp_path, ann: str, classes: tuple) -> Config:
    text = (f"_base_ = ['{GLID_DET}']\n"
            "train_dataloader = dict(dataset=dict(data_root='', "
            f"ann_file='{ann}', data_prefix=dict(img='{tmp_path}/'), "
            f"metainfo=dict(classes={classes!r})))\n"
            f"model = dict(bbox_head=dict(num_classes={len(classes)}))\n")
    return Config.fromfile(_write_config(tmp_path, text))


def test_coco_classes_in_another_order_than_the_json_are_refused(tmp_path):
    """mmdet's CocoDataset numbers the labels in the json's category order: a class list in
    another order would name every label wrongly, silently."""
    ann = _coco_three_categories(tmp_path)
    cfg = _coco_det_config(tmp_path, ann, ('pyramid', 'crate', 'ball'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.cat_ids == [10, 20, 30]  # what mmdet does: label 0 is id 10, 'ball'
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    msg = str(err.value)
    assert ann in msg and "label 0 would be trained as 'ball' and named 'pyramid'" in msg
    assert "train_dataloader.dataset.metainfo=dict(classes=('ball', 'crate', 'pyramid'))" in msg
    # a class the json does not have shifts the labels after it
    cfg = _coco_det_config(tmp_path, ann, ('ball', 'sphere', 'crate'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(ClassMismatchError, match="include sphere, which .* has no category"):
        check_classes(cfg, dataset, 'train_dataloader.dataset')
    # the json's order (ids 10 / 20 / 30 need not be contiguous) passes
    cfg = _coco_det_config(tmp_path, ann, ('ball', 'crate', 'pyramid'))
    check_classes(cfg, DATASETS.build(cfg.train_dataloader.dataset), 'train_dataloader.dataset')


def test_json_categories_reads_the_top_level_list(tmp_path):
    from mmgen_vision.engine.hooks.class_check import _json_categories
    cats = [dict(id=7, name='walker'), dict(id=3, name='b\u00e4ll')]
    data = dict(images=[], categories=cats,
                annotations=[dict(id=1, attributes=dict(categories='not this one'))],
                info=dict(description='x' * 100000, categories=[1, 2]))
    path = tmp_path / 'a.json'
    path.write_text(json.dumps(data))
    assert _json_categories(str(path)) == cats
    path.write_text(json.dumps(dict(images=[])))
    assert _json_categories(str(path)) is None


def _painter_child(own_seg, dataset_classes: int, model_classes: int) -> str:
    return (f"_base_ = ['{PAINTER_SEMSEG}']\n"
            "load = [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')]\n"
            "own = dict(_delete_=True, type='SegFolderDataset', "
            f"data_root='{own_seg}', img_dir='images/val', mask_dir='masks/val', "
            "pipeline=load)\n"
            f"model = dict(codecs=dict(semantic=dict(num_classes={model_classes})))\n"
            "test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict("
            f"codec=dict(num_classes={dataset_classes}), prompt=dict(dataset=own, index=0), "
            "dataset=dict(own, pipeline=load + [dict(type='mmseg.PackSegInputs')])))\n")


def test_painter_dataset_codec_and_model_codec_must_agree(own_seg, tmp_path):
    cfg = Config.fromfile(_write_config(tmp_path, _painter_child(own_seg, 5, 7)))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'test_dataloader.dataset')
    assert 'test_dataloader.dataset.codec.num_classes=5' in str(err.value)
    assert 'model.codecs.semantic.num_classes=7' in str(err.value)
    # the dataset codec against its own dataset's classes
    cfg = Config.fromfile(_write_config(tmp_path, _painter_child(own_seg, 7, 7)))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with pytest.raises(ClassMismatchError, match='dataset has 5 classes'):
        check_classes(cfg, dataset, 'test_dataloader.dataset')
    cfg = Config.fromfile(_write_config(tmp_path, _painter_child(own_seg, 5, 5)))
    assert check_classes(cfg, DATASETS.build(cfg.test_dataloader.dataset),
                         'test_dataloader.dataset') == []


def test_xdecoder_base_class_phrases_against_own_test_classes(own_seg, tmp_path):
    text = (f"_base_ = ['{XDECODER_OPENVOCAB}']\n"
            "test_dataloader = dict(dataset=dict(_delete_=True, type='SegFolderDataset', "
            f"data_root='{own_seg}', img_dir='images/val', mask_dir='masks/val'))\n")
    cfg = Config.fromfile(_write_config(tmp_path, text))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with pytest.raises(ClassMismatchError) as err:
        check_classes(cfg, dataset, 'test_dataloader.dataset')
    assert 'model.class_names has 7 names' in str(err.value)
    assert 'Set model.class_names to 5 names' in str(err.value)
    # the base's thing classes (circle, ...) are none of the new class names
    cfg.model.class_names = ['round ball', 'crate', 'pyramid', 'heavens', 'floor']
    with pytest.raises(ClassMismatchError, match='model.thing_classes'):
        check_classes(cfg, dataset, 'train_dataloader.dataset')  # training only
    # phrases of the right length are accepted and reported
    cfg.model.thing_classes = None
    notes = check_classes(cfg, dataset, 'test_dataloader.dataset')
    assert notes and "'ball' as 'round ball'" in notes[0]


def test_shapesworld_dataset_with_foreign_classes_says_what_to_use(own_seg):
    with pytest.raises(ValueError, match="type='SegFolderDataset'"):
        ShapesWorldSegDataset(data_root=own_seg, metainfo=dict(classes=OWN_CLASSES),
                              lazy_init=True)
