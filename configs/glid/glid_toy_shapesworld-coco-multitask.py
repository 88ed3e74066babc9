# Toy GLID multi-task segmentation on ShapesWorld: panoptic + instance + semantic heads (one
# linear layer each) on one shared encoder-decoder and query set. Every head is decoded at test
# time into its own output and scored by its stock metric in the same run:
# mmdet.CocoPanopticMetric (panoptic head), mmdet.CocoMetric(segm) (instance head) and
# mmdet.SemSegMetric (semantic head; mmseg's IoUMetric computed on mmdet's sample layout).
_base_ = ['./glid_toy_shapesworld-coco-panoptic.py']
data_root = 'data/shapesworld/coco/'
tasks = ('panoptic', 'instance', 'semantic')
model = dict(tasks=tasks, test_task=tasks)
val_evaluator = [
    dict(type='mmdet.CocoPanopticMetric', ann_file=_base_.val_evaluator.ann_file,  # noqa: F821
         seg_prefix=_base_.val_evaluator.seg_prefix),  # noqa: F821 (mmengine base variable)
    dict(type='mmdet.CocoMetric', ann_file=data_root + 'annotations/instances_val2017.json',
         metric=['segm']),
    dict(type='mmdet.SemSegMetric', iou_metrics=['mIoU']),
]
test_evaluator = val_evaluator
