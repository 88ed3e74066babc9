# ShapesWorld referring expressions in the RefCOCO (UNC) layout, read by the stock mmdet
# RefCocoDataset: one sample per image, holding every expression of the split's refs in that
# image (`text`) and, aligned with it, the referred object's mask (`gt_instances.masks`).
# Generate it with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# Splits: train and val (testA / testB are not produced).
# The files, loaders and augmentation of xdecoder_shapesworld_refcoco.py, packed by the stock
# mmdet PackDetInputs for mmdet's RefSegMetric.
_base_ = ['./xdecoder_shapesworld_refcoco.py']
dataset_type = 'mmdet.RefCocoDataset'
img_scale = (96, 96)

# No flip: expressions such as "the star on the left" would become false.
train_pipeline = [
    *_base_.train_pipeline[:3],  # noqa: F821 (mmengine base variable) image, masks, resize
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
test_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 LoadImageFromFile
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # masks are loaded after resizing: the metric is computed at the original size
    _base_.train_pipeline[1],  # noqa: F821 referred masks
    # mmdet's RefSegMetric reads the target masks from the sample's top level (`gt_masks`),
    # hence the meta key; the model returns one mask per expression in `pred_instances.masks`.
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
                   'gt_masks')),
]
train_dataset = dict(text_mode='random', pipeline=train_pipeline)
val_dataset = dict(type=dataset_type, text_mode='original', pipeline=test_pipeline)
train_dataloader = dict(dataset=train_dataset)
val_dataloader = dict(dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type='mmdet.RefSegMetric', metric=['cIoU', 'mIoU'])
test_evaluator = val_evaluator
