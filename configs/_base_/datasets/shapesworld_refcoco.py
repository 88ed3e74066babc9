# ShapesWorld referring expressions in the RefCOCO (UNC) layout, read by the stock mmdet
# RefCocoDataset: one sample per image, holding every expression of the split's refs in that
# image (`text`) and, aligned with it, the referred object's mask (`gt_instances.masks`).
# Generate it with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# Splits: train and val (testA / testB are not produced).
dataset_type = 'mmdet.RefCocoDataset'
data_root = 'data/shapesworld/refcoco/'
img_scale = (96, 96)
backend_args = None

# No flip: expressions such as "the star on the left" would become false.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(
        type='mmdet.LoadAnnotations',
        with_bbox=False,
        with_label=False,
        with_mask=True,
        backend_args=backend_args),
    dict(
        type='mmdet.RandomResize',
        scale=img_scale,
        ratio_range=(0.75, 1.25),
        keep_ratio=True,
        # built in the caller's scope: name mmdet's Resize (boxes, masks) explicitly
        resize_type='mmdet.Resize'),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # masks are loaded after resizing: the metric is computed at the original size
    dict(
        type='mmdet.LoadAnnotations',
        with_bbox=False,
        with_label=False,
        with_mask=True,
        backend_args=backend_args),
    # mmdet's RefSegMetric reads the target masks from the sample's top level (`gt_masks`),
    # hence the meta key; the model returns one mask per expression in `pred_instances.masks`.
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
                   'gt_masks')),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='train',
        text_mode='random',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='val',
        text_mode='original',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmdet.RefSegMetric', metric=['cIoU', 'mIoU'])
test_evaluator = val_evaluator
