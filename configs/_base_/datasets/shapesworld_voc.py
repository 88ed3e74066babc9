# ShapesWorld semantic segmentation in the PASCAL VOC 2012 layout. Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# The files are exactly VOC's (JPEGImages, palette PNGs in SegmentationClass, split lists in
# ImageSets/Segmentation), so mmseg's PascalVOCDataset reads them, but it fixes VOC's 21 class
# names in its METAINFO and mmseg only accepts a subset of those as custom classes: the stock
# BaseSegDataset with our six names reads the same files. 0 = background (sky and ground),
# 1..5 = the things, 255 = a 1-pixel void band around each object (ignored by loss and metric).
dataset_type = 'mmseg.BaseSegDataset'
data_root = 'data/shapesworld/voc/VOCdevkit/VOC2012'
metainfo = dict(
    classes=('background', 'circle', 'square', 'triangle', 'star', 'person'),
    # the first six entries of the VOC colour map, as stored in the label PNGs
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128]])
img_scale = (96, 96)
crop_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.RandomResize', scale=img_scale, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PhotoMetricDistortion'),
    dict(type='mmseg.PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.Resize', scale=img_scale, keep_ratio=True),
    # annotations are loaded after resizing: the metric is computed at the original size
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
