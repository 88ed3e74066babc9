# GLID pre-training (paper scale): masked image modelling as query-to-answer on ImageNet-1K,
# the whole encoder-decoder is trained. Recipe choices the paper does not publish (mask ratio,
# mask patch size, epochs, optimiser) follow SimMIM's Swin-B recipe; see README.md.
_base_ = [
    '../_base_/models/glid_swin-b.py',
    '../_base_/datasets/glid_imagenet_pretrain.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='GLIDPretrainer',
    # 192 px -> 48 x 48 tokens: SimMIM's window 6
    encoder_decoder=dict(backbone=dict(window_size=6)),
    mask_patch_size=32,
    mask_ratio=0.6,
    norm_pix_loss=True,
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))

max_epochs = 800
warmup_epochs = 10
base_lr = 8e-4  # for a total batch of 2048 (8 GPUs x 256)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'mask_token': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'mask_query': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = None
val_dataloader = None
val_evaluator = None
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=50, max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(base_batch_size=2048)
