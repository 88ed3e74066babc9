# ShapesWorld 2D human pose (the stick figures' 17 COCO keypoints) in the COCO keypoints layout,
# read by the stock mmpose CocoDataset in top-down mode (one sample per person, COCO metainfo:
# keypoint names, flip pairs and OKS sigmas). Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# About half of the scenes hold a person, who is small in a 96 px image: the person crop is
# warped to a 64 x 64 input with 16 x 16 heatmaps. Validation uses the ground-truth person boxes
# (there is no detection-results file for ShapesWorld).
dataset_type = 'mmpose.CocoDataset'
data_mode = 'topdown'
data_root = 'data/shapesworld/coco/'
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
backend_args = None

train_pipeline = [
    dict(type='mmpose.LoadImage', backend_args=backend_args),
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.RandomFlip', direction='horizontal'),
    dict(type='mmpose.RandomHalfBody'),
    dict(type='mmpose.RandomBBoxTransform'),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.GenerateTarget', encoder=codec),
    dict(type='mmpose.PackPoseInputs'),
]
val_pipeline = [
    dict(type='mmpose.LoadImage', backend_args=backend_args),
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmpose.CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
