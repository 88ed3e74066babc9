# ShapesWorld 2D human pose (the stick figures' 17 COCO keypoints) in the COCO keypoints layout,
# read by the stock mmpose CocoDataset in top-down mode (one sample per person, COCO metainfo:
# keypoint names, flip pairs and OKS sigmas). Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# About half of the scenes hold a person, who is small in a 96 px image: the person crop is
# warped to a 64 x 64 input with 16 x 16 heatmaps. Validation uses the ground-truth person boxes
# (there is no detection-results file for ShapesWorld).
_base_ = ['./glid_coco_keypoints.py']
data_root = 'data/shapesworld/coco/'
codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)

# The real top-down pipelines with the small codec (crop size and heatmap targets).
train_pipeline = [
    *_base_.train_pipeline[:5],  # noqa: F821 (mmengine base variable) load, flip, half body, jitter
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.GenerateTarget', encoder=codec),
    dict(type='mmpose.PackPoseInputs'),
]
val_pipeline = [
    *_base_.val_pipeline[:2],  # noqa: F821 load, box centre and scale
    dict(type='mmpose.TopdownAffine', input_size=codec['input_size']),
    dict(type='mmpose.PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        _delete_=True,  # no bbox_file: validation crops the ground-truth person boxes
        type=_base_.dataset_type,  # noqa: F821
        data_root=data_root,
        data_mode=_base_.data_mode,  # noqa: F821
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
