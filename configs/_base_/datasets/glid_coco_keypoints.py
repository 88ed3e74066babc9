# COCO 2017 person keypoints, top-down 256 x 192 crops (ViTPose setting) for GLID fine-tuning;
# the heatmaps (64 x 48) are exactly GLID's 1/4-scale f_b grid.
dataset_type = 'mmpose.CocoDataset'
data_mode = 'topdown'
data_root = 'data/coco/'
codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)
backend_args = None
train_pipeline = [
    dict(type='mmgen_vision.LoadImage', backend_args=backend_args),  # names a bad file
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.RandomFlip', direction='horizontal'),
    dict(type='mmpose.RandomHalfBody'),
    dict(type='mmpose.RandomBBoxTransform'),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.GenerateTarget', encoder=codec),
    dict(type='mmpose.PackPoseInputs'),
]
val_pipeline = [
    dict(type='mmgen_vision.LoadImage', backend_args=backend_args),  # names a bad file
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
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
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        bbox_file='data/coco/person_detection_results/'
        'COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='mmpose.CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
