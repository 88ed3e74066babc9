# Toy GLID panoptic segmentation on ShapesWorld (COCO panoptic layout, 64 px; 5 things + sky
# and ground): the paper config shrunk to the toy encoder-decoder of
# glid_toy_shapesworld-pretrain.py, started from its checkpoint.
_base_ = [
    './glid_swin-b_8xb2-160k_ade20k-640x640-panoptic.py',
    './glid_toy_shapesworld_encoder-decoder.py',
    './glid_toy_shapesworld_schedule.py',
]
data_root = 'data/shapesworld/coco/'
thing_classes = ('circle', 'square', 'triangle', 'star', 'person')
stuff_classes = ('sky', 'ground')
metainfo = dict(classes=thing_classes + stuff_classes, thing_classes=thing_classes,
                stuff_classes=stuff_classes)
img_scale = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadPanopticAnnotations'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.RandomFlip', prob=0.5),
    dict(type='mmdet.PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(type='mmdet.LoadPanopticAnnotations'),
    dict(type='mmdet.PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(
        type='mmdet.CocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=1),
        pipeline=train_pipeline))
val_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(
        type='mmdet.CocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/')
test_evaluator = val_evaluator
model = dict(
    num_queries=16,
    num_things_classes=len(thing_classes),
    num_stuff_classes=len(stuff_classes),
    pretrained=dict(checkpoint=_base_.toy_pretrained_checkpoint),  # noqa: F821
    encoder_decoder=_base_.toy_encoder_decoder,  # noqa: F821
    seg_head=dict(deep_supervision=False),
    fusion_cfg=dict(object_mask_thr=0.5, iou_thr=0.5, max_per_image=16))

# the 200-iteration toy schedule (glid_toy_shapesworld_schedule.py), lr 1e-3 without AMP
max_iters = 200
warmup_iters = 20
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0))
param_scheduler = _base_.toy_schedules.iters200.param_scheduler  # noqa: F821 (base variable)
train_cfg = _base_.toy_schedules.iters200.train_cfg  # noqa: F821
default_hooks = _base_.toy_schedules.iters200.default_hooks  # noqa: F821
log_processor = _base_.toy_schedules.iters200.log_processor  # noqa: F821
