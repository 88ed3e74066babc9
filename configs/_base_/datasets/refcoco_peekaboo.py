# RefCOCO (UNC splits) as "RefCOCO-C" for zero-shot referring segmentation (Peekaboo protocol).
#
# The paper evaluates on "RefCOCO-C", a modified RefCOCO whose construction is not published.
# Ours (documented in configs/peekaboo/README.md): one sample per (image, expression) of the
# split; refs whose object keeps less than half of its pixels inside the image's centred square
# crop are dropped (`min_center_crop_fraction=0.5`); image and binary target (1 = referred
# object) are cropped to that square; the image is then resized to 512 x 512 for the model, the
# target stays at the crop's native resolution and the prediction is scored there by
# ReferringSegMetric (mIoU, cIoU, Prec@0.5/0.7/0.9).
#
# Layout (as mmdet's RefCOCO configs): data/coco/train2014/*.jpg, data/coco/refcoco/instances.json,
# data/coco/refcoco/refs(unc).p. Splits: val (default), testA, testB:
#   --cfg-options test_dataloader.dataset.split=testA
_base_ = ['./peekaboo_protocol.py']
dataset_type = 'RefCocoSegDataset'
data_root = 'data/coco/'
test_pipeline = [
    _base_.test_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(type='LoadReferringAnnotations'),
    _base_.test_pipeline[1],  # noqa: F821 CenterCropSquare
    dict(
        _base_.test_pipeline[2],  # noqa: F821 PackSegInputs
        meta_keys=('img_path', 'img_id', 'ori_shape', 'img_shape', 'scale_factor', 'crop_bbox',
                   'text', 'ref_id', 'ann_id', 'sent_id')),
]
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='val',
        min_center_crop_fraction=0.5,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ReferringSegMetric', iou_thrs=(0.5, 0.7, 0.9))
test_evaluator = val_evaluator
