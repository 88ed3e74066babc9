# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The pinned stack that tools/setup_env.sh installs actually works together."""
import json
import os.path as osp
import subprocess
import sys
import sysconfig
import time

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT

PINS = {'torch': '2.14.1', 'torchvision': '0.29.1', 'mmengine': '0.10.7', 'mmcv': '2.1.0',
        'mmdet': '3.3.0', 'mmseg': '1.2.2', 'mmpose': '1.3.2'}


@pytest.mark.parametrize('module,version', sorted(PINS.items()))
def test_pinned_versions(module, version):
    assert __import__(module).__version__.split('+')[0] == version
    assert int(np.__version__.split('.')[0]) == 2


def test_mmcv_compiled_ops_run_on_cpu():
    from mmcv.ops import nms, roi_align
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=torch.float)
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feat = torch.arange(16.0).view(1, 1, 4, 4)
    out = roi_align(feat, torch.tensor([[0, 0, 0, 4, 4]], dtype=torch.float), (2, 2), 1.0, 2)
    assert out.shape == (1, 1, 2, 2) and out[0, 0, 0, 0] < out[0, 0, 1, 1]


def test_xtcocotools_is_a_numpy2_build(tmp_path):
    from xtcocotools import mask as xmask
    from xtcocotools.coco import COCO
    m = np.zeros((8, 8), dtype=np.uint8, order='F')
    m[2:5, 3:7] = 1
    rle = xmask.encode(m)
    assert xmask.area(rle) == 12 and (xmask.decode(rle) == m).all()
    ann = dict(images=[dict(id=1, width=8, height=8, file_name='a.jpg')],
               annotations=[dict(id=1, image_id=1, category_id=1, bbox=[3, 2, 4, 3], area=12,
                                 iscrowd=0, keypoints=[0] * 51, num_keypoints=0)],
               categories=[dict(id=1, name='person')])
    path = tmp_path / 'a.json'
    path.write_text(json.dumps(ann))
    assert COCO(str(path)).getAnnIds(imgIds=[1]) == [1]


def test_mmpose_without_chumpy_and_mim_with_pkg_resources():
    import importlib.util

    import mmpose.codecs  # noqa: F401
    assert importlib.util.find_spec('chumpy') is None
    import pkg_resources  # noqa: F401  (mim locates codebases through it)
    from mim.utils import get_installed_path
    assert osp.isfile(osp.join(get_installed_path('mmgen_vision'), '.mim', 'tools', 'train.py'))


@pytest.mark.skipif(
    osp.realpath(sys.prefix) != osp.realpath(osp.join(REPO_ROOT, '.venv')),
    reason='runs only inside the .venv that tools/setup_env.sh owns')
def test_setup_is_idempotent_and_warm_in_seconds():
    start = time.time()
    proc = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'setup_env.sh')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'is up to date' in proc.stdout
    assert time.time() - start < 120  # the warm budget: 2 minutes
    purelib = sysconfig.get_paths()['purelib']
    assert osp.realpath(osp.join(purelib, 'mmgen_vision')) == osp.join(REPO_ROOT, 'mmgen_vision')
