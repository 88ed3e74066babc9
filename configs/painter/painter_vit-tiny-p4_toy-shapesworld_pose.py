# Toy Painter with keypoints: the 4-task toy (semantic segmentation, depth, denoising,
# instances) plus top-down keypoints of ShapesWorld's stick figures (5 tasks, joint training),
# and the in-context keypoint evaluation of the val persons with the flip test: the query crop
# and its mirror are painted in one batch, each decoded to per-joint heatmaps, averaged (left /
# right swapped back) and handed to the stock mmpose heatmap decoder; stock mmpose CocoMetric.
#   python tools/train.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose.py
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose.py <ckpt>
#   (add --cfg-options model.test_cfg.flip_test=False for the single-pass evaluation)
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_in-context.py']
coco_root = _base_.data_root + '/coco'  # noqa: F821 (mmengine base variable)
flip_indices = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
# the 64 x 48 person crop is painted at 48 x 48 (the paper: 256 x 192 at 448 x 448)
crop_size = (48, 64)  # (w, h), mmpose's order
pose_codec = dict(type='KeypointCodec', sigma=1.5, id_radius=1, flip_indices=flip_indices)
model = dict(
    codecs=dict(pose=pose_codec),
    test_cfg=dict(flip_test=True))
sw_pose_load = [
    dict(type='mmgen_vision.LoadImage'),  # mmpose's, reading with our reader
    dict(type='mmpose.GetBBoxCenterScale'),
    dict(type='mmpose.TopdownAffine', input_size=crop_size),
]
sw_pose = dict(
    type='mmpose.CocoDataset',
    data_root=coco_root,
    data_mode='topdown',
    ann_file='annotations/person_keypoints_train2017.json',
    data_prefix=dict(img='train2017/'),
    pipeline=sw_pose_load)
train_dataloader = dict(
    sampler=dict(weights=dict(semantic=0.25, depth=0.25, denoise=0.15, instance=0.15, pose=0.2)),
    dataset=dict(datasets=_base_.train_dataloader['dataset']['datasets'] + [  # noqa: F821
        dict(type='PainterPairDataset', task='pose', codec=pose_codec,
             img_size=_base_.toy_img_size, augment=None, dataset=sw_pose)  # noqa: F821
    ]))
test_dataloader = dict(
    dataset=dict(
        task='pose',
        codec=pose_codec,
        prompt=dict(dataset=sw_pose, index=0),
        dataset=dict(
            type='mmpose.CocoDataset',
            data_root=coco_root,
            data_mode='topdown',
            ann_file='annotations/person_keypoints_val2017.json',
            data_prefix=dict(img='val2017/'),
            test_mode=True,
            pipeline=sw_pose_load + [dict(type='mmpose.PackPoseInputs')])))
test_evaluator = dict(
    type='mmpose.CocoMetric', ann_file=coco_root + '/annotations/person_keypoints_val2017.json')
