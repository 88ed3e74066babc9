# What every GLID fine-tuning config (paper scale) shares: the pre-trained Swin-B
# encoder-decoder and queries loaded from the 800-epoch pre-training (the SimMIM mask token is
# not built: it is pre-training only, and would be an unused parameter under DDP), ImageNet
# normalisation, and AdamW's parameter groups (no weight decay on norms, the position-bias
# tables, the CLS token, the query offsets and the level embeddings). Not run on its own: a
# task config adds its dataset, head, data preprocessor type and schedule.
_base_ = ['../_base_/models/glid_swin-b.py', '../_base_/default_runtime.py']
pretrained_checkpoint = 'work_dirs/glid_swin-b_8xb256-800e_in1k-pretrain/epoch_800.pth'
model = dict(
    encoder_decoder=dict(backbone=dict(use_mask_token=False)),
    # the paper's central ablation: none / encoder / encoder+decoder / encoder+decoder+queries
    pretrained=dict(checkpoint=pretrained_checkpoint, load='encoder+decoder+queries'),
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True))
# the task configs' optim_wrapper.paramwise_cfg
fine_tune_paramwise_cfg = dict(
    norm_decay_mult=0.,
    custom_keys={
        'relative_position_bias_table': dict(decay_mult=0.),
        'cls_token': dict(decay_mult=0.),
        'query_offsets': dict(decay_mult=0.),
        'level_embed': dict(decay_mult=0.),
    })
# the segmentation and depth configs' optimiser: AdamW 1e-4 with AMP (they set the clipping)
fine_tune_optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=fine_tune_paramwise_cfg)
# the segmentation configs' head: Mask2Former-style matching and losses on the queries' mask
# embeddings and classes
seg_head = dict(
    type='GLIDSegHead',
    assigner=dict(
        type='mmdet.HungarianAssigner',
        match_costs=[
            dict(type='mmdet.ClassificationCost', weight=2.0),
            dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
            dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0),
        ]),
    # class_weight: 1 per class and Mask2Former's 0.1 for no-object, filled in per task
    loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0,
                  reduction='mean'),
    loss_mask=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean',
                   loss_weight=5.0),
    loss_dice=dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True, reduction='mean',
                   naive_dice=True, eps=1.0, loss_weight=5.0))
