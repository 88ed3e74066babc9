# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID detection on COCO files of your own: renamed classes at non-contiguous category ids.

``make_coco_own`` rewrites the COCO instances of GLID's test ShapesWorld (256 train / 32 val
images of 64 px, ``tests/conftest.py``) as a user's own files: ``annotations/{train,val}.json``
with the categories ball / crate / pyramid / spike / walker at ids 10 / 20 / 30 / 45 / 7
(neither contiguous, nor sorted, nor starting at 1), images under ``train/`` and ``val/``. The
child config of docs/own_data.md ("GLID: detection / instances from COCO with your category
ids") fine-tunes the toy detector from the session's toy GLID pre-training through
``tools/train.py``, and ``tools/test.py`` scores it with the stock ``mmdet.CocoMetric``.

Checks: box AP@0.5 >= ``DET_MIN_AP50`` (a model without boxes scores 0: the chance level of a
detection metric); the predictions' ``.bbox.json`` carries the json's own category ids (more
than one of them), not label indices.

Measured (seed 0, 1 thread, 6 Dec 2026): box AP 0.037, AP50 0.093 (the same files with ids
1-5 in tests/test_tools/test_glid_e2e.py before: 0.041 / 0.099). With the categories listed in
the json by decreasing id (mmdet then numbers the labels in that order: the same data with the
labels permuted) the run gave AP50 0.022: the toy detection check depends on the trajectory
(configs/glid/README.md; issue 14, robustness).
"""
import json
import os.path as osp

import pytest

from conftest import REPO_ROOT, last_checkpoint, latest_metrics, run_tool
from own_data_utils import COCO_TO_OWN, make_coco_own

pytestmark = pytest.mark.slow

DET_MIN_AP50 = 0.05
ENV = {'OMP_NUM_THREADS': '1'}

DET_CONFIG = """\
_base_ = ['{repo}/configs/glid/glid_toy_shapesworld-coco-det.py']
classes = ('ball', 'crate', 'pyramid', 'spike', 'walker')
num_classes = len(classes)     # a variable of THIS file, used below: fine
metainfo = dict(classes=classes)
data_root = '{data}/'
train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
    data_root=data_root, metainfo=metainfo, ann_file='annotations/train.json',
    data_prefix=dict(img='train/')))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
    data_root=data_root, metainfo=metainfo, ann_file='annotations/val.json',
    data_prefix=dict(img='val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
model = dict(pretrained=dict(checkpoint='{checkpoint}'),
             bbox_head=dict(num_classes=num_classes))
"""


def test_glid_detection_on_own_coco_with_noncontiguous_ids(glid_roots, glid_pretrained,
                                                            tmp_path):
    data = make_coco_own(glid_roots['coco'], str(tmp_path / 'my_coco'))
    with open(osp.join(data, 'annotations', 'val.json')) as f:
        val = json.load(f)
    assert [c['id'] for c in val['categories']] == [10, 20, 30, 45, 7]
    config = tmp_path / 'my_det.py'
    config.write_text(DET_CONFIG.format(repo=REPO_ROOT, data=data, checkpoint=glid_pretrained))
    work_dir = str(tmp_path / 'work')
    run_tool(['tools/train.py', str(config), '--work-dir', work_dir], env=ENV)
    checkpoint = last_checkpoint(work_dir)
    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', str(config), checkpoint, '--work-dir', test_dir,
              '--cfg-options', f'test_evaluator.outfile_prefix={test_dir}/preds'], env=ENV)
    metrics = latest_metrics(test_dir)
    report = (f'GLID on own COCO (ids 10/20/30/45/7): box AP {metrics["coco/bbox_mAP"]:.3f}, '
              f'AP50 {metrics["coco/bbox_mAP_50"]:.3f} (no-box chance level 0)')
    print(report)
    assert metrics['coco/bbox_mAP_50'] >= DET_MIN_AP50, report
    with open(osp.join(test_dir, 'preds.bbox.json')) as f:
        predicted_ids = {p['category_id'] for p in json.load(f)}
    own_ids = {new_id for _, new_id in COCO_TO_OWN.values()}
    assert predicted_ids <= own_ids and len(predicted_ids) > 1, predicted_ids
