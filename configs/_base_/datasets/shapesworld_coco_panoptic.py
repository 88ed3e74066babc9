# ShapesWorld panoptic segmentation in the COCO panoptic layout, read by the stock mmdet
# CocoPanopticDataset. Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# Labels are contiguous indices into `classes` (things first, then stuff); segment ids in the
# PNGs are `category_id * 1000 + n`, every pixel belongs to a segment (no VOID).
# LoadPanopticAnnotations and CocoPanopticMetric need panopticapi
# (pip install git+https://github.com/cocodataset/panopticapi.git).
# The instance config's layout, pipelines and loaders, with the panoptic files and annotations.
_base_ = ['./shapesworld_coco_instance.py']
dataset_type = 'mmdet.CocoPanopticDataset'
thing_classes = _base_.classes  # noqa: F821 (mmengine base variable)
stuff_classes = ('sky', 'ground')
metainfo = dict(
    _delete_=True,
    classes=thing_classes + stuff_classes,
    thing_classes=thing_classes,
    stuff_classes=stuff_classes,
    palette=_base_.metainfo.palette + [(135, 206, 235), (139, 90, 43)])  # noqa: F821
load_panoptic = dict(type='mmdet.LoadPanopticAnnotations', backend_args=None)
train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 LoadImageFromFile
    load_panoptic,
    *_base_.train_pipeline[2:],  # noqa: F821 resize, flip, pack
]
test_pipeline = [
    *_base_.test_pipeline[:2],  # noqa: F821 load, resize
    # annotations are loaded after resizing: the metric is computed at the original size
    load_panoptic,
    _base_.test_pipeline[3],  # noqa: F821 pack
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        metainfo=metainfo,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(seg='annotations/panoptic_train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        metainfo=metainfo,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(seg='annotations/panoptic_val2017/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# Predictions are `pred_panoptic_seg.sem_seg` maps of `label + instance_id * 1000`
# (mmdet's INSTANCE_OFFSET), `label` indexing `classes`.
val_evaluator = dict(
    _delete_=True,
    type='mmdet.CocoPanopticMetric',
    ann_file=_base_.data_root + 'annotations/panoptic_val2017.json',  # noqa: F821
    seg_prefix=_base_.data_root + 'annotations/panoptic_val2017/',  # noqa: F821
    backend_args=None)
test_evaluator = val_evaluator
