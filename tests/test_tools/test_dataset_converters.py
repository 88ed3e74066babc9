# Copyright (c) mmgen_vision contributors. All rights reserved.
import glob
import json
import os
import os.path as osp
import shutil

import numpy as np
from PIL import Image

from conftest import run_tool


def test_coco_panoptic_to_semseg_reproduces_shapesworld_semantic_pngs(shapesworld_root,
                                                                      tmp_path):
    ann = osp.join(shapesworld_root, 'coco', 'annotations')
    out = str(tmp_path / 'semseg')
    proc = run_tool(['tools/dataset_converters/coco_panoptic_to_semseg.py',
                     osp.join(ann, 'panoptic_val2017.json'), osp.join(ann, 'panoptic_val2017'),
                     out, '--nproc', '2'])
    assert 'wrote 16 semantic PNGs' in proc.stdout
    written = sorted(glob.glob(osp.join(out, '*.png')))
    assert len(written) == 16
    for path in written:
        reference = osp.join(ann, 'panoptic_semseg_val2017', osp.basename(path))
        np.testing.assert_array_equal(np.asarray(Image.open(path)),
                                      np.asarray(Image.open(reference)))


def test_coco_panoptic_to_semseg_names_a_missing_png(shapesworld_root, tmp_path):
    ann = osp.join(shapesworld_root, 'coco', 'annotations')
    pngs = str(tmp_path / 'pan')
    shutil.copytree(osp.join(ann, 'panoptic_val2017'), pngs)
    with open(osp.join(ann, 'panoptic_val2017.json')) as f:
        victim = json.load(f)['annotations'][2]['file_name']
    missing = osp.join(pngs, victim)
    os.remove(missing)
    proc = run_tool(['tools/dataset_converters/coco_panoptic_to_semseg.py',
                     osp.join(ann, 'panoptic_val2017.json'), pngs, str(tmp_path / 'o')],
                    check=False)
    assert proc.returncode != 0 and missing in proc.stderr
