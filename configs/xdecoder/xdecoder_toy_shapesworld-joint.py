# Toy X-Decoder: the paper's joint pre-training (panoptic + referring + captions in every
# iteration, each source at its own batch size and resolution) shrunk to ShapesWorld and a few
# CPU minutes. Inherits the Focal-T paper config and only shrinks it (widths, depths, queries,
# sampled points, schedule; from-scratch training: no lr multiplier, CLIP's initial logit scale).
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#   python tools/train.py configs/xdecoder/xdecoder_toy_shapesworld-joint.py
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-joint.py <ckpt>   # panoptic
# Referring / captioning / open-vocabulary tests: the xdecoder_toy_shapesworld-*-test.py configs.
_base_ = ['./xdecoder_focalt_8xb4-50e_coco-joint.py']

data_root = 'data/shapesworld/'
thing_classes = ('circle', 'square', 'triangle', 'star', 'person')
stuff_classes = ('sky', 'ground')
classes = thing_classes + stuff_classes
num_points = 1024
model = dict(
    class_names=classes,
    thing_classes=thing_classes,
    backbone=dict(embed_dims=16, depths=(1, 1, 1, 1), drop_path_rate=0.),
    pixel_decoder=dict(in_channels=(16, 32, 64, 128), feat_channels=32, out_channels=32,
                       num_encoder_layers=1, num_heads=2, feedforward_channels=64,
                       norm_cfg=dict(type='GN', num_groups=8)),
    # caption logits (caption output @ token embedding^T) grow as width ** 1.5 at init: keep
    # the paper width's (512) scale at width 32, else the from-scratch toy never gets past
    # the unigram distribution of the caption tokens (see the README)
    decoder=dict(in_channels=32, embed_dims=32, num_queries=17, num_heads=2,
                 feedforward_channels=64, num_layers=3, mask_channels=32, proj_dim=32,
                 caption_scale=(512 / 32)**1.5),
    lang_encoder=dict(width=32, layers=2, heads=2, proj_dim=32, logit_scale_init=2.6593),
    criterion=dict(
        matcher=dict(type='PointSampledMatcher', num_points=num_points),
        grounding_matcher=dict(type='PointSampledMatcher', num_points=num_points, match_costs=[
            dict(type='QuerySoftmaxCost', weight=2.0),
            dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
            dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
        # the release matches / classifies the m - 1 object queries only: the global query
        # (the image embedding of retrieval) must not be trained as "background"
        num_global_queries=1,
        num_points=num_points),
    test_cfg=dict(caption_steps=24, object_mask_thr=0.5, max_per_image=20))

# ---------------------------------------------------------------------------------- data
context_length = 77
metainfo = dict(classes=classes, thing_classes=thing_classes, stuff_classes=stuff_classes)
panoptic_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadPanopticAnnotations'),
    dict(type='mmdet.RandomResize', scale=(96, 96), ratio_range=(0.75, 1.5), keep_ratio=True,
         resize_type='mmdet.Resize'),
    dict(type='mmdet.RandomCrop', crop_size=(96, 96), crop_type='absolute',
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='mmdet.FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
    dict(type='PackXDecoderInputs', task='panoptic'),
]
referring_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.LoadAnnotations', with_bbox=False, with_label=False, with_mask=True),
    dict(type='mmdet.Resize', scale=(96, 96), keep_ratio=True),
    dict(type='TokenizeXDecoderText', keys=dict(text='grd'), context_length=context_length,
         required=('text', )),
    dict(type='PackXDecoderInputs', task='referring',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
caption_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
    dict(type='TokenizeXDecoderText', keys=dict(text='caption'), context_length=context_length),
    dict(type='PackXDecoderInputs', task='caption',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    sampler=dict(type='MultiSourceSampler', shuffle=True),
    batch_sampler=dict(type='MultiSourceBatchSampler', mode='joint', epoch_source='panoptic',
                       batch_sizes=dict(panoptic=4, referring=4, caption=8)),
    dataset=dict(
        type='MultiSourceDataset',
        tasks=dict(panoptic='panoptic', referring='referring', caption='caption'),
        datasets=dict(
            panoptic=dict(
                type='mmdet.CocoPanopticDataset', data_root=data_root + 'coco/',
                metainfo=metainfo, ann_file='annotations/panoptic_train2017.json',
                data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
                filter_cfg=dict(filter_empty_gt=True, min_size=32),
                pipeline=panoptic_train_pipeline),
            referring=dict(
                type='mmdet.RefCocoDataset', data_root=data_root + 'refcoco/',
                ann_file='refcoco/instances.json', split_file='refcoco/refs(unc).p',
                data_prefix=dict(img_path='train2014/'), split='train',
                text_mode='original', pipeline=referring_train_pipeline),
            caption=dict(
                type='CocoCaptionDataset', data_root=data_root + 'coco/',
                ann_file='annotations/captions_train2017.json',
                data_prefix=dict(img_path='train2017/'), sample_per='caption',
                pipeline=caption_train_pipeline))))
# validation / test: panoptic val -> semantic mIoU, PQ and mask AP from the same predictions
val_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmdet.CocoPanopticDataset', data_root=data_root + 'coco/', metainfo=metainfo,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'), test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='mmdet.Resize', scale=(96, 96), keep_ratio=True),
            dict(type='mmdet.LoadPanopticAnnotations'),
            dict(type='PackXDecoderInputs', task='panoptic',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
        ]))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    dict(type='mmdet.CocoPanopticMetric',
         ann_file=data_root + 'coco/annotations/panoptic_val2017.json',
         seg_prefix=data_root + 'coco/annotations/panoptic_val2017/'),
]
test_evaluator = val_evaluator

# ------------------------------------------------------------------------------ schedule
max_iters = 300
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)
# the paper's AdamW / wd / clipping / no-decay keys, in fp32 and without the 0.1 multipliers
# (nothing here is pre-trained)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'logit_scale': dict(decay_mult=0.),
            'query_feat': dict(decay_mult=0.),
            'query_embed': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
            'caption_pos_embed': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[round(0.889 * max_iters), round(0.963 * max_iters)], gamma=0.1),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters,
                    max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=25)
