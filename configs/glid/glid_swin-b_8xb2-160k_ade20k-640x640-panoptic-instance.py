# ADE20K instance segmentation (single task): the panoptic config with a things-only head,
# evaluated with mmdet's CocoMetric(segm) on the instance annotations.
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-640x640-panoptic.py']
model = dict(tasks=('instance', ))
val_evaluator = dict(
    _delete_=True,
    type='mmdet.CocoMetric',
    ann_file='data/ADEChallengeData2016/ade20k_instance_val.json',
    metric=['segm'])
test_evaluator = val_evaluator
