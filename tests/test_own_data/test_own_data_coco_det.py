# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID detection on COCO files of your own: renamed classes at non-contiguous category ids.

``make_coco_own`` rewrites the COCO instances of GLID's test ShapesWorld (256 train / 32 val
images of 64 px, ``tests/conftest.py``) as a user's own files: ``annotations/{train,val}.json``
with the categories ball / crate / pyramid / spike / walker at ids 10 / 20 / 30 / 45 / 7
(neither contiguous, nor sorted, nor starting at 1), images under ``train/`` and ``val/``. The
child config of docs/own_data.md ("GLID: detection / instances from COCO with your category
ids") fine-tunes the toy detector from the session's toy GLID pre-training through
``tools/train.py``, and ``tools/test.py`` scores it with the stock ``mmdet.CocoMetric``.

Checks: box AP@0.5 at least ``DET_MIN_MARGIN`` above the prior-box baseline computed from the
files (``own_data_utils.prior_ap50``: every val image gets, for each category, the mean train
box of that category scored by its train frequency; 0.048 on these files, where a model without
boxes scores 0) and at least ``DET_MIN_AP50``; the predictions' ``.bbox.json`` carries the json's
own category ids (more than one of them), not label indices.

Measured (1 thread, AVX2 CPU, 6 Dec 2026), with DETR's losses on every decoder layer: AP50
0.167 / 0.108 / 0.100 / 0.106 / 0.086 at training seeds 0-4 (2 threads, seeds 0-2: 0.104 /
0.105 / 0.113; threshold 0.068), and 0.120 / 0.126 (seeds 0 / 1)
with the categories listed in the json by decreasing id (mmdet then numbers the labels in that
order). With the losses on the last layer only (the toy config before) seeds 0-2 gave
0.034 / 0.095 / 0.059: below the prior baseline at seed 0 (issue 14, robustness). Class-agnostic
AP50 of the seed-4 model is 0.163: localisation, not naming, limits the toy detector.
"""
import json
import os.path as osp

import pytest

from conftest import REPO_ROOT, last_checkpoint, latest_metrics, run_tool
from own_data_utils import assert_own_category_ids, make_coco_own, prior_ap50

pytestmark = pytest.mark.slow

DET_MIN_AP50 = 0.05
DET_MIN_MARGIN = 0.02  # AP50 above the prior-box baseline
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


def test_prior_box_baseline_scores_what_it_predicts(tmp_path):
    """The baseline is a real score: 1 when every val box is the train mean box of its class,
    lower when the val boxes sit elsewhere."""
    def write(name, anns):
        images = [dict(id=i, file_name=f'{i}.png', width=64, height=64) for i in (1, 2)]
        data = dict(images=images, categories=[dict(id=10, name='a'), dict(id=7, name='b')],
                    annotations=[dict(id=k + 1, image_id=img, category_id=cat, bbox=box,
                                      area=box[2] * box[3], iscrowd=0,
                                      segmentation=[[box[0], box[1], box[0] + box[2], box[1],
                                                     box[0] + box[2], box[1] + box[3],
                                                     box[0], box[1] + box[3]]])
                                 for k, (img, cat, box) in enumerate(anns)])
        (tmp_path / name).write_text(json.dumps(data))
        return str(tmp_path / name)

    train = write('train.json', [(1, 10, [0, 0, 10, 10]), (2, 10, [4, 4, 10, 10]),
                                 (1, 7, [30, 30, 20, 20])])
    mean_boxes = [(img, 10, [2, 2, 10, 10]) for img in (1, 2)] + [
        (img, 7, [30, 30, 20, 20]) for img in (1, 2)]
    for iou_type in ('bbox', 'segm'):
        assert prior_ap50(train, write('val_mean.json', mean_boxes),
                          iou_type) == pytest.approx(1.0)
    # class 10 found on one image of two, class 7 on none
    half = mean_boxes[:1] + [(2, 10, [40, 40, 10, 10])] + [
        (img, 7, [0, 0, 20, 20]) for img in (1, 2)]
    assert prior_ap50(train, write('val_half.json', half)) == pytest.approx(0.25, abs=0.01)


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
    prior = prior_ap50(osp.join(data, 'annotations', 'train.json'),
                       osp.join(data, 'annotations', 'val.json'))
    report = (f'GLID on own COCO (ids 10/20/30/45/7): box AP {metrics["coco/bbox_mAP"]:.3f}, '
              f'AP50 {metrics["coco/bbox_mAP_50"]:.3f}; prior-box baseline AP50 {prior:.3f}')
    print(report)
    assert metrics['coco/bbox_mAP_50'] >= max(DET_MIN_AP50, prior + DET_MIN_MARGIN), report
    assert_own_category_ids(osp.join(test_dir, 'preds.bbox.json'))
