# ShapesWorld instance segmentation in the COCO layout, read by the stock mmdet CocoDataset.
# Generate it with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# The json files hold the five thing classes only (sky and ground are stuff: see the panoptic
# config); boxes are the tight boxes of the visible pixels, masks are compressed RLE.
_base_ = ['./glid_coco_detection.py']
data_root = 'data/shapesworld/coco/'
classes = ('circle', 'square', 'triangle', 'star', 'person')
metainfo = dict(
    classes=classes,
    palette=[(220, 20, 60), (0, 130, 200), (60, 180, 75), (255, 225, 25), (145, 30, 180)])
img_scale = (96, 96)

train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
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
    _base_.test_pipeline[0],  # noqa: F821 LoadImageFromFile
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # annotations are loaded after resizing: the metric is computed at the original size
    dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True),
    _base_.test_pipeline[3],  # noqa: F821 PackDetInputs
]
train_dataloader = dict(
    _delete_=True,  # one image size: no aspect-ratio grouping
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_base_.train_dataloader.dataset,  # noqa: F821
                 data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/instances_val2017.json', metric=['bbox', 'segm'])
test_evaluator = val_evaluator
