# ShapesWorld panoptic segmentation in the COCO panoptic layout, read by the stock mmdet
# CocoPanopticDataset. Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# Labels are contiguous indices into `classes` (things first, then stuff); segment ids in the
# PNGs are `category_id * 1000 + n`, every pixel belongs to a segment (no VOID).
# LoadPanopticAnnotations and CocoPanopticMetric need panopticapi
# (pip install git+https://github.com/cocodataset/panopticapi.git).
dataset_type = 'mmdet.CocoPanopticDataset'
data_root = 'data/shapesworld/coco/'
thing_classes = ('circle', 'square', 'triangle', 'star', 'person')
stuff_classes = ('sky', 'ground')
metainfo = dict(
    classes=thing_classes + stuff_classes,
    thing_classes=thing_classes,
    stuff_classes=stuff_classes,
    palette=[(220, 20, 60), (0, 130, 200), (60, 180, 75), (255, 225, 25), (145, 30, 180),
             (135, 206, 235), (139, 90, 43)])
img_scale = (96, 96)
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='mmdet.RandomResize',
        scale=img_scale,
        ratio_range=(0.75, 1.25),
        keep_ratio=True,
        # built in the caller's scope: name mmdet's Resize (boxes, masks) explicitly
        resize_type='mmdet.Resize'),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # annotations are loaded after resizing: the metric is computed at the original size
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
# Predictions are `pred_panoptic_seg.sem_seg` maps of `label + instance_id * 1000`
# (mmdet's INSTANCE_OFFSET), `label` indexing `classes`.
val_evaluator = dict(
    type='mmdet.CocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/',
    backend_args=backend_args)
test_evaluator = val_evaluator
