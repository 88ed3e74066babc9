# GLID fine-tuning, COCO top-down human pose (paper scale): the pre-trained encoder-decoder and
# queries (q_i = CLS + e_i, one per keypoint: 17) with a new linear layer [keypoint embedding];
# heatmap_k = f_k . f_b, trained and decoded with mmpose's MSRA heatmap codec.
_base_ = [
    './glid_swin-b_fine-tune.py',
    '../_base_/datasets/glid_coco_keypoints.py',
]
codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
model = dict(
    type='GLIDPoseEstimator',
    num_queries=17,
    data_preprocessor=dict(type='mmpose.PoseDataPreprocessor'),
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
    paramwise_cfg=_base_.fine_tune_paramwise_cfg)  # noqa: F821 (mmengine base variable)
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
