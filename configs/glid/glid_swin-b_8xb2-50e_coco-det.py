# GLID fine-tuning, COCO object detection (paper scale): the pre-trained encoder-decoder and
# queries (q_i = CLS + e_i, 100 queries) with a new linear layer [box, class]; DETR's Hungarian
# matching and losses (mmdet).
_base_ = [
    './glid_swin-b_fine-tune.py',
    '../_base_/datasets/glid_coco_detection.py',
]
num_classes = 80
model = dict(
    type='GLIDDetector',
    num_queries=100,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        pad_size_divisor=32),
    bbox_head=dict(
        type='GLIDDetHead',
        num_classes=num_classes,
        loss_cls=dict(
            type='mmdet.CrossEntropyLoss',
            bg_cls_weight=0.1,
            use_sigmoid=False,
            loss_weight=1.0,
            class_weight=1.0),
        loss_bbox=dict(type='mmdet.L1Loss', loss_weight=5.0),
        loss_iou=dict(type='mmdet.GIoULoss', loss_weight=2.0),
        train_cfg=dict(
            assigner=dict(
                type='mmdet.HungarianAssigner',
                match_costs=[
                    dict(type='mmdet.ClassificationCost', weight=1.),
                    dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
                    dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0),
                ])),
        test_cfg=dict(max_per_img=100)))

max_epochs = 50
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=_base_.fine_tune_paramwise_cfg)  # noqa: F821 (mmengine base variable)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[40],
         gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=5))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(base_batch_size=16)
