# Zero-shot segmentation on ShapesWorld VOC val (background + circle, square, triangle, star,
# person) with the toy GroupViT of groupvit_toy_shapesworld.py (its checkpoint loads as is):
#   python tools/test.py configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py \
#       work_dirs/groupvit_toy_shapesworld/iter_300.pth --cfg-options \
#       test_dataloader.dataset.data_root=data/shapesworld_cc/voc/VOCdevkit/VOC2012
# (the class-coloured ShapesWorld the toy trains on, see groupvit_toy_shapesworld.py)
_base_ = ['./groupvit_toy_shapesworld.py', '../_base_/datasets/shapesworld_voc_zeroshot.py']
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
test_cfg = dict(type='TestLoop')
# painted predictions with tools/test.py --show-dir: every test image (interval=1; mmseg's
# default of 50 painted 1 picture in 50 batches)
default_hooks = dict(
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='mmseg.SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                  name='visualizer')
