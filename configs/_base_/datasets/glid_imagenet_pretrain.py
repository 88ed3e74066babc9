# ImageNet-1K images (labels unused) for GLID's masked-image-modelling pre-training, read from
# the standard ``meta/train.txt`` list. ShapesWorld's ``imagenet`` format has the same layout.
dataset_type = 'GLIDImageListDataset'
data_root = 'data/imagenet'
img_size = 192
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(img_size, img_size), ratio_range=(1.0, 1.6),
         keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=(img_size, img_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmseg.PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape')),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train'),
        pipeline=train_pipeline))
