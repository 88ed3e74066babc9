# Open-vocabulary semantic segmentation test of the toy X-Decoder: ShapesWorld panoptic val
# labelled by class-name PHRASES given only at test time (the model never saw them as class
# names; "square" is replaced by "box", a word absent from every training caption, phrase and
# class name). mmseg IoUMetric.
#   python tools/test.py configs/xdecoder/xdecoder_toy_shapesworld-openvocab-test.py <ckpt>
_base_ = ['./xdecoder_toy_shapesworld-joint.py']
test_phrases = ['round circle', 'box', 'triangle', 'star shape', 'person', 'sky', 'ground']
model = dict(task='semantic', class_names=test_phrases)
test_evaluator = dict(_delete_=True, type='mmseg.IoUMetric', iou_metrics=['mIoU'])
# the panoptic val pipeline, packed for the semantic task
test_dataloader = dict(dataset=dict(pipeline=[
    *_base_.test_pipeline[:-1],  # noqa: F821 (mmengine base variable) load, resize, annotations
    dict(_base_.test_pipeline[-1], task='semantic'),  # noqa: F821 PackXDecoderInputs
]))
# painted predictions with tools/test.py --show-dir
default_hooks = dict(visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='mmseg.SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
