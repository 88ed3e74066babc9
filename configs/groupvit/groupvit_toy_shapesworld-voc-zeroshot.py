# Zero-shot segmentation on ShapesWorld VOC val (background + circle, square, triangle, star,
# person) with the toy GroupViT of groupvit_toy_shapesworld.py (its checkpoint loads as is):
#   python tools/test.py configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py \
#       work_dirs/groupvit_toy_shapesworld/iter_300.pth --cfg-options \
#       test_dataloader.dataset.data_root=data/shapesworld_cc/voc/VOCdevkit/VOC2012
# (the class-coloured ShapesWorld the toy trains on, see groupvit_toy_shapesworld.py)
_base_ = ['./groupvit_toy_shapesworld.py']
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None

model = dict(
    type='GroupViTSegmentor',
    class_names=('background', 'circle', 'square', 'triangle', 'star', 'person'),
    # the prompt templates the multi-label loss draws from (PromptNouns)
    templates={{_base_.prompt_templates}},
    with_bg=True,
    bg_thresh=0.95,
    topk=3,
    test_cfg=dict(mode='whole', short_side={{_base_.img_size}}))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='mmseg.PackSegInputs'),
]
# ShapesWorld in the VOC layout (see configs/_base_/datasets/shapesworld_voc.py)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='mmseg.BaseSegDataset',
        data_root='data/shapesworld/voc/VOCdevkit/VOC2012',
        metainfo=dict(
            classes=('background', 'circle', 'square', 'triangle', 'star', 'person'),
            palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                     [128, 0, 128]]),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_cfg = dict(type='TestLoop')
val_dataloader = None
val_evaluator = None
val_cfg = None
# painted predictions with tools/test.py --show-dir: every test image (interval=1; mmseg's
# default of 50 painted 1 picture in 50 batches)
default_hooks = dict(
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='mmseg.SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
