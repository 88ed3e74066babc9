# X-Decoder generic segmentation data on ShapesWorld in the COCO panoptic layout (stock
# mmdet.CocoPanopticDataset). A shrunk copy of xdecoder_coco_panoptic.py: 96 px scenes, LSJ
# with a 96 px crop. Generate the data with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#
# A packed training sample: inputs uint8 (3, 96, 96) BGR; data_samples a DetDataSample with
# gt_instances.labels (N,) (index into `classes`: things then stuff), gt_instances.masks
# (BitmapMasks N x H x W), gt_sem_seg, metainfo task='panoptic'.
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
img_size = 96
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    # no flip: the referring phrases and captions of the joint run say "left of" / "right of"
    dict(
        type='mmdet.RandomResize',
        scale=(img_size, img_size),
        ratio_range=(0.5, 2.0),
        keep_ratio=True,
        resize_type='mmdet.Resize'),
    dict(
        type='mmdet.RandomCrop',
        crop_size=(img_size, img_size),
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
    dict(type='PackXDecoderInputs', task='panoptic'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(img_size, img_size), keep_ratio=True),
    # annotations are loaded after resizing: the metric is computed at the original size
    dict(type='mmdet.LoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='PackXDecoderInputs',
        task='panoptic',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    ann_file='annotations/panoptic_train2017.json',
    data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline,
    backend_args=backend_args)
val_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    ann_file='annotations/panoptic_val2017.json',
    data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
    test_mode=True,
    pipeline=test_pipeline,
    backend_args=backend_args)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=train_dataset)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=val_dataset)
test_dataloader = val_dataloader
# predictions: pred_panoptic_seg (label + instance_id * 1000) and pred_instances (masks, labels,
# scores) with labels indexing `classes`
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
