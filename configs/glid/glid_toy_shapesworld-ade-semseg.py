# Toy GLID semantic segmentation on ShapesWorld (ADE20K layout, 64 px): the paper config
# shrunk to the toy encoder-decoder of glid_toy_shapesworld-pretrain.py, started from its
# checkpoint (pass model.pretrained.checkpoint=<path>).
_base_ = [
    './glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py',
    './glid_toy_shapesworld_encoder-decoder.py',
    './glid_toy_shapesworld_schedule.py',
]
num_classes = 7
img_size = 64
crop_size = (img_size, img_size)
data_root = 'data/shapesworld/ade/ADEChallengeData2016'
# mmseg.LoadAnnotations takes reduce_zero_label from the dataset (ShapesWorldSegDataset: True;
# SegFolderDataset: zero_is_background), so these pipelines serve any dataset unchanged.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.RandomResize', scale=crop_size, ratio_range=(1.0, 1.25), keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.Resize', scale=crop_size, keep_ratio=True),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs'),
]
train_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(type='ShapesWorldSegDataset', data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    _base_.toy_loader,  # noqa: F821 (mmengine base variable)
    dataset=dict(type='ShapesWorldSegDataset', data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(
    num_queries=16,
    pretrained=dict(checkpoint=_base_.toy_pretrained_checkpoint),  # noqa: F821
    data_preprocessor=dict(size=crop_size),
    encoder_decoder=_base_.toy_encoder_decoder,  # noqa: F821
    seg_head=dict(
        num_classes=num_classes,
        deep_supervision=False,  # toy: the last layer only (a third of the matching cost)
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))

# the 150-iteration toy schedule (glid_toy_shapesworld_schedule.py), lr 1e-3 without AMP
max_iters = 150
warmup_iters = 15
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0))
param_scheduler = _base_.toy_schedules.iters150.param_scheduler  # noqa: F821 (base variable)
train_cfg = _base_.toy_schedules.iters150.train_cfg  # noqa: F821
default_hooks = dict(
    _base_.toy_schedules.iters150.default_hooks,  # noqa: F821
    # painted predictions with tools/test.py --show-dir
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
log_processor = _base_.toy_schedules.iters150.log_processor  # noqa: F821
visualizer = dict(type='mmseg.SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
