# NYU Depth v2 (mmseg's NYUDataset layout: images/{train,test}, annotations/{train,test}, depth
# PNGs in millimetres) for GLID fine-tuning; depths are read in metres.
_base_ = ['./default_dataloaders.py']
dataset_type = 'mmseg.NYUDataset'
data_root = 'data/nyu'
crop_size = (480, 480)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='mmseg.RandomDepthMix', prob=0.25),
    dict(type='mmseg.RandomFlip', prob=0.5),
    dict(type='mmseg.RandomCrop', crop_size=crop_size),
    dict(type='mmseg.PhotoMetricDistortion'),
    dict(type='mmseg.PackSegInputs',
         meta_keys=('img_path', 'depth_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'flip', 'flip_direction', 'category_id')),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.Resize', scale=(2000, 480), keep_ratio=True),
    dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='mmseg.PackSegInputs',
         meta_keys=('img_path', 'depth_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'flip', 'flip_direction', 'category_id')),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=4,
    dataset=dict(
        train_dataloader['dataset'],  # the same dataset on the test split
        test_mode=True,
        data_prefix=dict(img_path='images/test', depth_map_path='annotations/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmseg.DepthMetric', min_depth_eval=1e-3, max_depth_eval=10.0, crop_type='nyu_crop')
test_evaluator = val_evaluator
