# Toy GLID pre-training on ShapesWorld's ImageNet-style folders in well under a CPU minute:
# the paper config shrunk (64 px, a 4-stage Swin of width 32, 1 BiFPN layer, 3 decoder layers,
# 200 iterations).
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld --image-size 64 \
#       --num-train 256 --formats imagenet
#   python tools/train.py configs/glid/glid_toy_shapesworld-pretrain.py
_base_ = [
    './glid_swin-b_8xb256-800e_in1k-pretrain.py',
    './glid_toy_shapesworld_encoder-decoder.py',
    './glid_toy_shapesworld_schedule.py',
]
img_size = 64
data_root = 'data/shapesworld/imagenet'
# the paper's pipeline at 64 px, with a milder scale jitter (1.0-1.25 instead of 1.0-1.6)
train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(_base_.train_pipeline[1],  # noqa: F821 RandomResize
         scale=(img_size, img_size), ratio_range=(1.0, 1.25)),
    dict(_base_.train_pipeline[2], crop_size=(img_size, img_size)),  # noqa: F821 RandomCrop
    *_base_.train_pipeline[3:],  # noqa: F821 flip, pack
]
train_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    batch_size=16,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
model = dict(
    mask_patch_size=8,
    norm_pix_loss=False,
    encoder_decoder=_base_.toy_encoder_decoder)  # noqa: F821

max_iters = 200
warmup_iters = 20
base_lr = 2e-3
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=base_lr * 0.05,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
# cosine decay over 200 iterations; the hooks and logs of glid_toy_shapesworld_schedule.py, a loop
# without validation (no validation split here)
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = _base_.toy_schedules.iters200.default_hooks  # noqa: F821 (base variable)
log_processor = _base_.toy_schedules.iters200.log_processor  # noqa: F821
auto_scale_lr = None
