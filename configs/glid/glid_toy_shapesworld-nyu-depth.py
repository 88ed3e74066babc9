# Toy GLID depth estimation on ShapesWorld (NYU layout, 64 px, depths 1-20 m): the paper config
# shrunk to the toy encoder-decoder of glid_toy_shapesworld-pretrain.py, started from its
# checkpoint.
_base_ = [
    './glid_swin-b_8xb8-40k_nyu-depth.py', './glid_toy_shapesworld_encoder-decoder.py',
    './glid_toy_shapesworld_schedule.py'
]
data_root = 'data/shapesworld/nyu'
crop_size = (64, 64)
meta_keys = ('img_path', 'depth_map_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='mmseg.PackSegInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img_path='train/rgb', depth_map_path='train/depth'),
        pipeline=train_pipeline))
val_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img_path='val/rgb', depth_map_path='val/depth'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# ShapesWorld's sky is at exactly 20 m: keep it (max 20.5) and use no NYU crop
val_evaluator = dict(min_depth_eval=1e-3, max_depth_eval=20.5, crop_type=None)
test_evaluator = val_evaluator
model = dict(
    num_queries=16,
    pretrained=dict(checkpoint=_base_.toy_pretrained_checkpoint),  # noqa: F821
    data_preprocessor=dict(size=crop_size),
    encoder_decoder=_base_.toy_encoder_decoder,  # noqa: F821
    depth_head=dict(min_depth=1e-3, max_depth=20.5, deep_supervision=False))

# the 150-iteration toy schedule (glid_toy_shapesworld_schedule.py), lr 1e-3 without AMP
# (the paper config's gradient clipping kept)
max_iters = 150
warmup_iters = 15
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3))
param_scheduler = _base_.toy_schedules.iters150.param_scheduler  # noqa: F821 (base variable)
train_cfg = _base_.toy_schedules.iters150.train_cfg  # noqa: F821
default_hooks = _base_.toy_schedules.iters150.default_hooks  # noqa: F821
log_processor = _base_.toy_schedules.iters150.log_processor  # noqa: F821
