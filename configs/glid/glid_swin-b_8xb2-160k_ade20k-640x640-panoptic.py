# GLID fine-tuning, ADE20K panoptic segmentation (paper scale, single task): the pre-trained
# encoder-decoder and queries (100) with one linear layer [mask embedding, class] over
# 100 things + 50 stuff; decoded with mmdet's MaskFormerFusionHead, CocoPanopticMetric.
_base_ = [
    './glid_swin-b_fine-tune.py',
    '../_base_/datasets/glid_ade20k_panoptic.py',
    '../_base_/schedules/schedule_iter.py',
]
num_things_classes = 100
num_stuff_classes = 50
model = dict(
    type='GLIDUniversalSegmentor',
    num_queries=100,
    num_things_classes=num_things_classes,
    num_stuff_classes=num_stuff_classes,
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor',
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
    seg_head=_base_.seg_head,  # noqa: F821 (mmengine base variable)
    tasks=('panoptic', ),
    no_object_weight=0.1,
    fusion_cfg=dict(object_mask_thr=0.8, iou_thr=0.8, max_per_image=100,
                    filter_low_score=True))

max_iters = 160000
warmup_iters = 1500
# the base's scheduler was resolved with its own lengths: restate it with these
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
optim_wrapper = dict(
    _base_.fine_tune_optim_wrapper,  # noqa: F821 (mmengine base variable)
    clip_grad=dict(_delete_=True, max_norm=0.01, norm_type=2))
train_cfg = dict(max_iters=max_iters, val_interval=16000)
default_hooks = dict(checkpoint=dict(interval=16000))
