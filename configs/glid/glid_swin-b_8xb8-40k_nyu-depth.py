# GLID fine-tuning, NYUv2 monocular depth (paper scale): the pre-trained encoder-decoder and
# queries (q_i = CLS + e_i, 256 bins) with a new linear layer [bin length, embedding];
# depth = sum_i softmax_i(z_i . f_b) c_i, SILog + chamfer bin losses.
_base_ = [
    './glid_swin-b_fine-tune.py',
    '../_base_/datasets/glid_nyu_depth.py',
    '../_base_/schedules/schedule_iter.py',
]
crop_size = (480, 480)
model = dict(
    type='GLIDDepthEstimator',
    num_queries=256,
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor', pad_val=0, seg_pad_val=0, size=crop_size),
    depth_head=dict(
        type='GLIDDepthHead',
        min_depth=1e-3,
        max_depth=10.,
        loss_depth=dict(type='mmseg.SiLogLoss', loss_weight=1.0),
        loss_bins_weight=0.1))

max_iters = 40000
warmup_iters = 1000
# the base's scheduler was resolved with its own lengths: restate it with these
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
optim_wrapper = dict(
    _base_.fine_tune_optim_wrapper,  # noqa: F821 (mmengine base variable)
    clip_grad=dict(_delete_=True, max_norm=1.0, norm_type=2))
train_cfg = dict(max_iters=max_iters, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
