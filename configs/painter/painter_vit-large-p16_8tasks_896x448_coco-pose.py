# In-context evaluation of Painter ViT-L on COCO val2017 keypoints (top-down 256 x 192 crops,
# painted at 448 x 448): prompt = a training crop, decoded by the KeypointCodec (per-joint
# heatmaps -> the stock mmpose heatmap decoder), stock mmpose CocoMetric. Paper: AP 72.1 (with
# detected person boxes and flip test; set `bbox_file` for detections, see mmpose).
# Flip test (on, as the release evaluates): the crop and its mirror are painted in one batch;
# the mirror's heatmaps are flipped back with left / right swapped (the model codec's
# `flip_indices`) and averaged before decoding. Off: --cfg-options model.test_cfg.flip_test=False
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_coco-pose.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_in-context.py']
model = dict(test_cfg=dict(flip_test=True))
test_dataloader = dict(
    dataset=dict(
        task='coco_pose',
        codec=dict(type='KeypointCodec', sigma=3.),
        prompt=dict(dataset={{_base_.coco_pose.dataset}}, index=0),
        dataset=dict(
            type='mmpose.CocoDataset',
            data_root='data/coco',
            data_mode='topdown',
            ann_file='annotations/person_keypoints_val2017.json',
            data_prefix=dict(img='val2017/'),
            test_mode=True,
            pipeline=[
                dict(type='mmgen_vision.LoadImage'),  # mmpose's, reading with our reader
                dict(type='mmpose.GetBBoxCenterScale'),
                dict(type='mmpose.TopdownAffine', input_size=(192, 256)),
                dict(type='mmpose.PackPoseInputs')
            ])))
test_evaluator = dict(
    type='mmpose.CocoMetric', ann_file='data/coco/annotations/person_keypoints_val2017.json')
