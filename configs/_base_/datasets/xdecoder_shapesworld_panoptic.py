# X-Decoder generic segmentation data on ShapesWorld in the COCO panoptic layout (stock
# mmdet.CocoPanopticDataset). Inherits xdecoder_coco_panoptic.py: 96 px scenes, LSJ
# with a 96 px crop. Generate the data with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#
# A packed training sample: inputs uint8 (3, 96, 96) BGR; data_samples a DetDataSample with
# gt_instances.labels (N,) (index into `classes`: things then stuff), gt_instances.masks
# (BitmapMasks N x H x W), gt_sem_seg, metainfo task='panoptic'.
_base_ = ['./xdecoder_coco_panoptic.py']
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

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    _base_.train_pipeline[1],  # noqa: F821 (mmengine base variable) LoadPanopticAnnotations
    # no flip: the referring phrases and captions of the joint run say "left of" / "right of"
    dict(_base_.train_pipeline[3], scale=(img_size, img_size), ratio_range=(0.5, 2.0)),  # noqa
    dict(_base_.train_pipeline[4], crop_size=(img_size, img_size)),  # noqa: F821 RandomCrop
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
    _base_.train_pipeline[5],  # noqa: F821 PackXDecoderInputs
]
# annotations are loaded after resizing: the metric is computed at the original size
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='mmdet.Resize', scale=(img_size, img_size), keep_ratio=True),
    *_base_.test_pipeline[2:],  # noqa: F821 LoadPanopticAnnotations, pack
]
train_dataset = dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline)
val_dataset = dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline)
train_dataloader = dict(batch_size=8, num_workers=2, dataset=train_dataset)
val_dataloader = dict(dataset=val_dataset)
test_dataloader = val_dataloader
# predictions: pred_panoptic_seg (label + instance_id * 1000) and pred_instances (masks, labels,
# scores) with labels indexing `classes`
val_evaluator = [
    dict(_base_.val_evaluator[0],  # noqa: F821 CocoPanopticMetric
         ann_file=data_root + 'annotations/panoptic_val2017.json',
         seg_prefix=data_root + 'annotations/panoptic_val2017/'),
    dict(_base_.val_evaluator[1],  # noqa: F821 CocoMetric (segm)
         ann_file=data_root + 'annotations/instances_val2017.json'),
]
test_evaluator = val_evaluator
