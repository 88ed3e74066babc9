# Toy X-Decoder: the paper's joint pre-training (panoptic + referring + captions in every
# iteration, each source at its own batch size and resolution) shrunk to ShapesWorld and a few
# CPU minutes. The Focal-T paper config's model and recipe on the ShapesWorld variant of its
# joint data, only shrunk (widths, depths, queries, sampled points, schedule; from-scratch
# training: no lr multiplier, CLIP's initial logit scale).
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#   python tools/train.py configs/xdecoder/xdecoder_toy_shapesworld-joint.py
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-joint.py <ckpt>   # panoptic
# Referring / captioning / open-vocabulary tests: the xdecoder_toy_shapesworld-*-test.py configs.
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_shapesworld_joint.py',
    './xdecoder_focalt_recipe.py'
]

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
# xdecoder_shapesworld_joint.py in the main process, with three steps of the toy recipe: milder
# scale jitter for the panoptic crops (0.75-1.5 instead of 0.5-2.0), a fixed 96 px resize of the
# referring images and no colour jitter on the captioned images
panoptic_train_pipeline = [
    *_base_.train_pipeline[:2],  # noqa: F821 (mmengine base variable) load image, annotations
    dict(_base_.train_pipeline[2], ratio_range=(0.75, 1.5)),  # noqa: F821 mmdet.RandomResize
    *_base_.train_pipeline[3:],  # noqa: F821 crop, drop emptied masks, pack
]
referring_train_pipeline = [
    *_base_.referring_train_pipeline[:2],  # noqa: F821 load image, masks
    dict(type='mmdet.Resize', scale=(96, 96), keep_ratio=True),
    *_base_.referring_train_pipeline[3:],  # noqa: F821 tokenize the expressions, pack
]
caption_train_pipeline = [
    *_base_.caption_train_pipeline[:2],  # noqa: F821 load image, 64 px resize
    *_base_.caption_train_pipeline[3:],  # noqa: F821 tokenize the caption, pack
]
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        datasets=dict(
            panoptic=dict(pipeline=panoptic_train_pipeline),
            referring=dict(pipeline=referring_train_pipeline),
            caption=dict(pipeline=caption_train_pipeline))))
# validation / test: panoptic val -> semantic mIoU and PQ from the same predictions
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='mmseg.IoUMetric', iou_metrics=['mIoU']),
    _base_.val_evaluator[0],  # noqa: F821 mmdet.CocoPanopticMetric
]
test_evaluator = val_evaluator

# ------------------------------------------------------------------------------ schedule
max_iters = 300
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters + 1)
# the paper's AdamW / wd / clipping / no-decay keys, in fp32 and without the 0.1 multipliers
# (nothing here is pre-trained; the language encoder at 0.1 was tried for retrieval: README)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(_base_.optim_wrapper.optimizer, lr=1e-3),  # noqa: F821
    clip_grad=_base_.optim_wrapper.clip_grad,  # noqa: F821
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys=dict({
            key: mult
            for key, mult in _base_.optim_wrapper.paramwise_cfg.custom_keys.items()  # noqa: F821
            if not key.startswith(('backbone', 'lang_encoder'))
        }, logit_scale=dict(decay_mult=0.))))
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
