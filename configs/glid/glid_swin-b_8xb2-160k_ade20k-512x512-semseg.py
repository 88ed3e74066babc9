# GLID fine-tuning, ADE20K semantic segmentation (paper scale): the pre-trained
# encoder-decoder and queries (q_i = CLS + e_i, 100 queries) with a new linear layer
# [mask embedding, class]; Mask2Former-style matching and losses.
_base_ = [
    './glid_swin-b_fine-tune.py',
    '../_base_/datasets/glid_ade20k_semantic.py',
    '../_base_/schedules/schedule_iter.py',
]
num_classes = 150
crop_size = (512, 512)
model = dict(
    type='GLIDSegmentor',
    num_queries=100,
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor', pad_val=0, seg_pad_val=255, size=crop_size),
    seg_head=dict(
        _base_.seg_head,  # noqa: F821 (mmengine base variable)
        num_classes=num_classes,
        # 1 per class and Mask2Former's 0.1 for no-object
        loss_cls=dict(
            _base_.seg_head.loss_cls,  # noqa: F821
            class_weight=[1.0] * num_classes + [0.1])))

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
