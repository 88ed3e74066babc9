# GLID fine-tuning, NYUv2 monocular depth (paper scale): the pre-trained encoder-decoder and
# queries (q_i = CLS + e_i, 256 bins) with a new linear layer [bin length, embedding];
# depth = sum_i softmax_i(z_i . f_b) c_i, SILog + chamfer bin losses.
_base_ = [
    '../_base_/models/glid_swin-b.py',
    '../_base_/datasets/glid_nyu_depth.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_iter.py',
]
crop_size = (480, 480)
pretrained_checkpoint = 'work_dirs/glid_swin-b_8xb256-800e_in1k-pretrain/epoch_800.pth'
model = dict(
    type='GLIDDepthEstimator',
    # the SimMIM mask token is pre-training only (not built: no unused parameter under DDP)
    encoder_decoder=dict(backbone=dict(use_mask_token=False)),
    num_queries=256,
    pretrained=dict(checkpoint=pretrained_checkpoint, load='encoder+decoder+queries'),
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=0,
        size=crop_size),
    depth_head=dict(
        type='GLIDDepthHead',
        min_depth=1e-3,
        max_depth=10.,
        loss_depth=dict(type='mmseg.SiLogLoss', loss_weight=1.0),
        loss_bins_weight=0.1))

max_iters = 40000
warmup_iters = 1000
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(_delete_=True, max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'query_offsets': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
        }))
train_cfg = dict(max_iters=max_iters, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
