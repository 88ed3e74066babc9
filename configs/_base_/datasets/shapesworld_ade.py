# ShapesWorld semantic segmentation in the ADE20K layout (reduce_zero_label convention).
# mmseg.LoadAnnotations takes reduce_zero_label from the dataset (ShapesWorldSegDataset: True;
# SegFolderDataset: zero_is_background), so these pipelines serve any dataset unchanged.
# Generate it with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
_base_ = ['./glid_ade20k_semantic.py']
dataset_type = 'ShapesWorldSegDataset'
data_root = 'data/shapesworld/ade/ADEChallengeData2016'
img_scale = (96, 96)
crop_size = (96, 96)
train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.RandomResize', scale=img_scale, ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    *_base_.train_pipeline[4:],  # noqa: F821 flip, photometric distortion, pack
]
test_pipeline = [
    _base_.test_pipeline[0],  # noqa: F821 LoadImageFromFile
    dict(type='mmseg.Resize', scale=img_scale, keep_ratio=True),
    # annotations are loaded after resizing: the metric is computed at the original size
    dict(type='mmseg.LoadAnnotations'),
    _base_.test_pipeline[3],  # noqa: F821 PackSegInputs
]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='mmseg.Resize', scale_factor=r, keep_ratio=True) for r in (0.75, 1.0, 1.25)],
            [dict(type='mmseg.RandomFlip', prob=0., direction='horizontal'),
             dict(type='mmseg.RandomFlip', prob=1., direction='horizontal')],
            [dict(type='mmseg.LoadAnnotations')],
            [dict(type='mmseg.PackSegInputs')],
        ]),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
