# GLID fine-tuning, ADE20K semantic segmentation (paper scale): the pre-trained
# encoder-decoder and queries (q_i = CLS + e_i, 100 queries) with a new linear layer
# [mask embedding, class]; Mask2Former-style matching and losses.
_base_ = [
    '../_base_/models/glid_swin-b.py',
    '../_base_/datasets/glid_ade20k_semantic.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_iter.py',
]
num_classes = 150
crop_size = (512, 512)
pretrained_checkpoint = 'work_dirs/glid_swin-b_8xb256-800e_in1k-pretrain/epoch_800.pth'
model = dict(
    type='GLIDSegmentor',
    # the SimMIM mask token is pre-training only (not built: no unused parameter under DDP)
    encoder_decoder=dict(backbone=dict(use_mask_token=False)),
    num_queries=100,
    # the paper's central ablation: none / encoder / encoder+decoder / encoder+decoder+queries
    pretrained=dict(checkpoint=pretrained_checkpoint, load='encoder+decoder+queries'),
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    seg_head=dict(
        type='GLIDSegHead',
        num_classes=num_classes,
        assigner=dict(
            type='mmdet.HungarianAssigner',
            match_costs=[
                dict(type='mmdet.ClassificationCost', weight=2.0),
                dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0),
            ]),
        loss_cls=dict(
            type='mmdet.CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=2.0,
            reduction='mean',
            class_weight=[1.0] * num_classes + [0.1]),
        loss_mask=dict(
            type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean', loss_weight=5.0),
        loss_dice=dict(
            type='mmdet.DiceLoss',
            use_sigmoid=True,
            activate=True,
            reduction='mean',
            naive_dice=True,
            eps=1.0,
            loss_weight=5.0)))

max_iters = 160000
warmup_iters = 1500
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(_delete_=True, max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'query_offsets': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
        }))
train_cfg = dict(max_iters=max_iters, val_interval=16000)
default_hooks = dict(checkpoint=dict(interval=16000))
