# X-Decoder generic segmentation data: COCO panoptic (133 classes) read by the stock
# mmdet.CocoPanopticDataset, the paper's recipe: large-scale jitter (resize by 0.1-2.0, random
# 1024 x 1024 crop) and flip for training; shorter side 800 for evaluation. Layout:
#   data/coco/train2017/, val2017/
#   data/coco/annotations/panoptic_{train,val}2017.json, panoptic_{train,val}2017/ (PNGs),
#   data/coco/annotations/instances_val2017.json (instance segmentation evaluation)
# See docs/dataset_prepare.md ("X-Decoder"). Packed samples as in
# xdecoder_shapesworld_panoptic.py; class names come from the dataset's metainfo.
_base_ = ['./default_dataloaders.py']
dataset_type = 'mmdet.CocoPanopticDataset'
data_root = 'data/coco/'
image_size = (1024, 1024)
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    dict(type='mmdet.RandomFlip', prob=0.5),
    # large-scale jitter
    dict(
        type='mmdet.RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True,
        resize_type='mmdet.Resize'),
    dict(
        type='mmdet.RandomCrop',
        crop_size=image_size,
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='PackXDecoderInputs', task='panoptic'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='PackXDecoderInputs',
        task='panoptic',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/panoptic_train2017.json',
    data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline,
    backend_args=backend_args)
val_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/panoptic_val2017.json',
    data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
    test_mode=True,
    pipeline=test_pipeline,
    backend_args=backend_args)
# 32 images per iteration over 8 GPUs in the paper's recipe
train_dataloader = dict(batch_size=4, num_workers=4, dataset=train_dataset)
val_dataloader = dict(dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='mmdet.CocoPanopticMetric',
        ann_file=data_root + 'annotations/panoptic_val2017.json',
        seg_prefix=data_root + 'annotations/panoptic_val2017/',
        backend_args=backend_args),
    dict(
        type='mmdet.CocoMetric',
        ann_file=data_root + 'annotations/instances_val2017.json',
        metric=['segm'],
        backend_args=backend_args),
]
test_evaluator = val_evaluator
