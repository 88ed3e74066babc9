# Copyright (c) mmgen_vision contributors. All rights reserved.
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import TOY_SEG_CONFIG
from mmgen_vision.apis import SegInferencer
from mmgen_vision.engine import CheckpointMismatchError
from mmgen_vision.utils import load_config
from mmgen_vision.visualization import colorize_label_map, overlay_label_map


def test_overlay_paints_only_labelled_pixels():
    image = np.full((2, 3, 3), 100, dtype=np.uint8)
    labels = np.array([[0, 1, 255], [1, 0, 0]])
    palette = [[0, 0, 0], [200, 0, 100]]
    painted = colorize_label_map(labels, palette)
    assert painted[0, 1].tolist() == [200, 0, 100] and painted[0, 2].tolist() == [0, 0, 0]
    out = overlay_label_map(image, labels, palette, alpha=0.5, skip_labels=[0])
    assert out[0, 1].tolist() == [150, 50, 100]  # half image, half colour
    assert out[0, 0].tolist() == [100, 100, 100] and out[0, 2].tolist() == [100, 100, 100]
    with pytest.raises(ValueError, match='differ in size'):
        overlay_label_map(image, labels[:1], palette)


def _cfg(shapesworld_root):
    data_root = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    return load_config(TOY_SEG_CONFIG, {'test_dataloader.dataset.data_root': data_root})


@pytest.mark.slow
def test_inferencer_predicts_like_the_trained_model(trained, shapesworld_root, tmp_path):
    inferencer = SegInferencer(_cfg(shapesworld_root), trained['checkpoint'], device='cpu')
    ade = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    images = sorted(glob.glob(osp.join(ade, 'images', 'validation', '*.jpg')))[:4]
    result = inferencer(images, out_dir=str(tmp_path))
    correct = total = 0
    for path, pred in zip(images, result['predictions']):
        name = osp.splitext(osp.basename(path))[0]
        gt = np.asarray(Image.open(osp.join(ade, 'annotations', 'validation', name + '.png')))
        gt = gt.astype(np.int64) - 1  # reduce_zero_label
        assert pred.shape == gt.shape
        valid = gt >= 0
        correct += int((pred[valid] == gt[valid]).sum())
        total += int(valid.sum())
    # the trained toy FCN reaches ~92% pixel accuracy on val (aAcc); chance (majority) ~50%
    assert correct / total > 0.8
    assert len(glob.glob(osp.join(str(tmp_path), '*_seg.png'))) == 4
    # an array input gives the same prediction as its path
    from_array = inferencer(mmcv.imread(images[0]))['predictions'][0]
    np.testing.assert_array_equal(from_array, result['predictions'][0])


def test_inferencer_refuses_a_checkpoint_of_another_model(shapesworld_root, tmp_path):
    wrong = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'fc.weight': torch.zeros(3, 3)}}, wrong)
    with pytest.raises(CheckpointMismatchError, match='other.pth'):
        SegInferencer(_cfg(shapesworld_root), wrong, device='cpu')
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        SegInferencer(_cfg(shapesworld_root), 'none', device='cpu')('nope.jpg')
