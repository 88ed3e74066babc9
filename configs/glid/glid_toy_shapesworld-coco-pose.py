# Toy GLID top-down pose on ShapesWorld's stick figures (COCO keypoints layout, 64 x 64 crops,
# 16 x 16 heatmaps = f_b): the paper config shrunk to the toy encoder-decoder of
# glid_toy_shapesworld-pretrain.py, started from its checkpoint. Validation uses the
# ground-truth person boxes. Against the paper config: sigma 2 with unbiased (DARK) encoding and
# decoding on the 16 x 16 grid (sigma 1 there is a one-cell blob and the argmax decoding is
# quantised to 4 crop pixels, about 3 image pixels, against an OKS tolerance of 1-4 pixels for
# these small figures), the e_i learning rate x 10 (the 17 queries start identical, as CLS)
# and 400 iterations (at 200 the wrists and ankles still sit on the elbows and knees).
_base_ = [
    './glid_swin-b_8xb64-210e_coco-256x192-pose.py',
    './glid_toy_shapesworld_encoder-decoder.py',
    './glid_toy_shapesworld_schedule.py',
]
data_root = 'data/shapesworld/coco/'
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2,
             unbiased=True)
train_pipeline = [
    dict(type='mmgen_vision.LoadImage'),
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.RandomFlip', direction='horizontal'),
    dict(type='mmpose.RandomBBoxTransform', scale_factor=(0.8, 1.2), rotate_factor=20),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.GenerateTarget', encoder=codec),
    dict(type='mmpose.PackPoseInputs'),
]
val_pipeline = [
    dict(type='mmgen_vision.LoadImage'),
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.PackPoseInputs'),
]
train_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    batch_size=16,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    batch_size=16,
    dataset=dict(data_root=data_root, bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
model = dict(
    pretrained=dict(checkpoint=_base_.toy_pretrained_checkpoint),  # noqa: F821
    encoder_decoder=_base_.toy_encoder_decoder,  # noqa: F821
    pose_head=dict(codec=codec, deep_supervision=False))

# the 400-iteration toy schedule (glid_toy_shapesworld_schedule.py) in place of the paper's 210
# epochs, lr 1e-3 without AMP
max_iters = 400
warmup_iters = 20
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'query_offsets': dict(lr_mult=10., decay_mult=0.)}))
param_scheduler = _base_.toy_schedules.iters400.param_scheduler  # noqa: F821 (base variable)
train_cfg = _base_.toy_schedules.iters400.train_cfg  # noqa: F821
default_hooks = _base_.toy_schedules.iters400.default_hooks  # noqa: F821
log_processor = _base_.toy_schedules.iters400.log_processor  # noqa: F821
auto_scale_lr = None
