# GLID multi-task segmentation fine-tuning on ADE20K: panoptic, instance and semantic trained
# jointly, sharing the encoder, the decoder and the queries; only the three linear layers are
# task-specific. Every head is decoded at evaluation into its own output and scored by its
# metric in the same run: mmdet.CocoPanopticMetric (PQ), mmdet.CocoMetric(segm) on the instance
# annotations (mask AP) and mmdet.SemSegMetric (mIoU on the panoptic classes).
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-640x640-panoptic.py']
data_root = 'data/ADEChallengeData2016/'
tasks = ('panoptic', 'instance', 'semantic')
model = dict(tasks=tasks, test_task=tasks)
val_evaluator = [
    dict(
        type='mmdet.CocoPanopticMetric',
        ann_file=data_root + 'ade20k_panoptic_val.json',
        seg_prefix=data_root + 'ade20k_panoptic_val/'),
    dict(
        type='mmdet.CocoMetric',
        ann_file=data_root + 'ade20k_instance_val.json',
        metric=['segm']),
    dict(type='mmdet.SemSegMetric', iou_metrics=['mIoU']),
]
test_evaluator = val_evaluator
