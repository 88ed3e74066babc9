# GLID fine-tuning, COCO top-down human pose (paper scale): the pre-trained encoder-decoder and
# queries (q_i = CLS + e_i, one per keypoint: 17) with a new linear layer [keypoint embedding];
# heatmap_k = f_k . f_b, trained and decoded with mmpose's MSRA heatmap codec.
_base_ = [
    '../_base_/models/glid_swin-b.py',
    '../_base_/datasets/glid_coco_keypoints.py',
    '../_base_/default_runtime.py',
]
pretrained_checkpoint = 'work_dirs/glid_swin-b_8xb256-800e_in1k-pretrain/epoch_800.pth'
codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
model = dict(
    type='GLIDPoseEstimator',
    # the SimMIM mask token is pre-training only (not built: no unused parameter under DDP)
    encoder_decoder=dict(backbone=dict(use_mask_token=False)),
    num_queries=17,
    pretrained=dict(checkpoint=pretrained_checkpoint, load='encoder+decoder+queries'),
    data_preprocessor=dict(
        type='mmpose.PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    pose_head=dict(
        type='GLIDPoseHead',
        codec=codec,
        loss=dict(type='mmpose.KeypointMSELoss', use_target_weight=True)),
    # mmpose's top-down flip test (the shift for MSRA heatmaps, as its HRNet / SimpleBaseline
    # COCO configs)
    test_cfg=dict(flip_test=True, shift_heatmap=True))

max_epochs = 210
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.1),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.),
            'query_offsets': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[170, 200], gamma=0.1,
         by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=True, interval=10, save_best='coco/AP',
                                     rule='greater'))
log_processor = dict(by_epoch=True)
auto_scale_lr = dict(base_batch_size=512)
