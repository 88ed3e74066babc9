# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``SegFolderDataset``: images/ + masks/ of your own, with or without a background 0."""
import numpy as np
import pytest
from PIL import Image

from mmgen_vision.datasets import SegFolderDataset
from own_data_utils import OWN_CLASSES

LOAD = [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')]


def _folder(root, masks, write_classes=True):
    (root / 'images').mkdir(parents=True)
    (root / 'masks').mkdir()
    for i, mask in enumerate(masks):
        Image.fromarray(np.full(mask.shape + (3, ), 100, np.uint8)).save(
            root / 'images' / f'img{i}.jpg')
        Image.fromarray(mask.astype(np.uint8)).save(root / 'masks' / f'img{i}.png')
    if write_classes:
        (root / 'classes.txt').write_text('# my classes\n' + '\n'.join(OWN_CLASSES) + '\n\n')
    return str(root)


def test_classes_txt_labels_and_ignore(tmp_path):
    mask = np.array([[0, 1, 4], [255, 2, 3]])
    root = _folder(tmp_path / 'd', [mask])
    dataset = SegFolderDataset(data_root=root, pipeline=LOAD)
    assert dataset.metainfo['classes'] == OWN_CLASSES and len(dataset) == 1
    np.testing.assert_array_equal(dataset[0]['gt_seg_map'], mask)  # 'ball' is label 0


def test_zero_is_background(tmp_path):
    mask = np.array([[0, 1, 5], [255, 2, 3]])
    root = _folder(tmp_path / 'd', [mask])
    dataset = SegFolderDataset(data_root=root, zero_is_background=True, pipeline=LOAD)
    np.testing.assert_array_equal(dataset[0]['gt_seg_map'],
                                  [[255, 0, 4], [255, 1, 2]])


def test_class_list_is_required_and_single(tmp_path):
    root = _folder(tmp_path / 'd', [np.zeros((2, 2))], write_classes=False)
    with pytest.raises(ValueError, match='has no class list'):
        SegFolderDataset(data_root=root)
    dataset = SegFolderDataset(data_root=root, metainfo=dict(classes=('a', 'b')))
    assert dataset.metainfo['classes'] == ('a', 'b')
    with pytest.raises(ValueError, match='two class lists'):
        SegFolderDataset(data_root=root, classes=('a', ), metainfo=dict(classes=('b', )))


def test_labels_beyond_the_classes_name_the_file(tmp_path):
    root = _folder(tmp_path / 'd', [np.array([[0, 7]])])  # 7 is no class of 5
    with pytest.raises(ValueError, match=r'img0.png holds label\(s\) \[7\]'):
        SegFolderDataset(data_root=root)
    # 5 is valid only when 0 is background
    root = _folder(tmp_path / 'e', [np.array([[0, 5]])])
    with pytest.raises(ValueError, match=r'\[5\]'):
        SegFolderDataset(data_root=root)
    assert len(SegFolderDataset(data_root=root, zero_is_background=True)) == 1


def test_missing_mask_and_old_switches(tmp_path):
    root = _folder(tmp_path / 'd', [np.zeros((2, 2))])
    (tmp_path / 'd' / 'masks' / 'img0.png').unlink()
    with pytest.raises(FileNotFoundError, match='has no mask'):
        SegFolderDataset(data_root=root)
    with pytest.raises(TypeError, match='zero_is_background'):
        SegFolderDataset(data_root=root, reduce_zero_label=True)
    with pytest.raises(TypeError, match='img_dir= and mask_dir='):
        SegFolderDataset(data_root=root, data_prefix=dict(img_path='x'))


def test_semseg_to_instances_one_mask_per_class():
    from mmgen_vision.datasets.transforms import SemSegToInstances
    seg = np.array([[0, 0, 3], [255, 3, 3]], np.uint8)
    out = SemSegToInstances()(dict(gt_seg_map=seg, img_path='x.png'))
    assert out['gt_bboxes_labels'].tolist() == [0, 3]
    masks = out['gt_masks'].to_ndarray().astype(bool)
    np.testing.assert_array_equal(masks[0], seg == 0)
    np.testing.assert_array_equal(masks[1], seg == 3)  # 255 belongs to no mask
    assert out['gt_bboxes'].tensor.tolist() == [[0, 0, 2, 1], [1, 0, 3, 2]]
    assert not out['gt_ignore_flags'].any()
    with pytest.raises(KeyError, match='mmseg.LoadAnnotations'):
        SemSegToInstances()(dict(img_path='x.png'))


def test_corrupt_mask_names_the_file_and_cause(tmp_path):
    """Masks go through the project's image reader: one error class, the file and the cause."""
    from mmgen_vision.utils.image_io import ImageReadError
    root = _folder(tmp_path / 'd', [np.zeros((2, 2)), np.zeros((2, 2))])
    (tmp_path / 'd' / 'masks' / 'img1.png').write_bytes(b'')
    with pytest.raises(ImageReadError, match=r'img1.png: empty'):
        SegFolderDataset(data_root=root)
    (tmp_path / 'd' / 'masks' / 'img1.png').write_text('not a picture')
    with pytest.raises(ImageReadError, match=r'img1.png: not an image'):
        SegFolderDataset(data_root=root)
