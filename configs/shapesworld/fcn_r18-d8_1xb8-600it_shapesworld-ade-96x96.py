# The foundation's plumbing proof: a stock mmseg FCN (ResNet-18-D8, thin) trained and evaluated
# on ShapesWorld's ADE20K-layout semantic data through mmgen_vision's tools on a CPU.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/datasets/shapesworld_ade.py',
]
num_classes = 7  # circle, square, triangle, star, person, sky, ground
crop_size = (96, 96)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    _scope_='mmseg',
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='FCNHead',
        in_channels=128,
        in_index=3,
        channels=64,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.0,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
tta_model = dict(type='mmseg.SegTTAModel')

max_iters = 600
warmup_iters = 50
optim_wrapper = dict(optimizer=dict(lr=3e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=0.9, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters),
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='mmseg.SegLocalVisualizer', name='visualizer', alpha=0.6)
