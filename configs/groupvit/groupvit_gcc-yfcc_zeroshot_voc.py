# Zero-shot semantic segmentation on PASCAL VOC 2012 val (background + 20 classes) with a trained
# GroupViT: the release's protocol (short side 448, slide 448 / 224, "a photo of a {}.", renamed
# VOC classes, top-5 classes per window, background threshold 0.95).
#   python tools/test.py configs/groupvit/groupvit_gcc-yfcc_zeroshot_voc.py <groupvit .pth>
# The .pth is a checkpoint of groupvit_gcc-yfcc_30e_paper.py (or the converted release weights):
# GroupViTSegmentor has GroupViT's state-dict keys.
_base_ = ['./groupvit_gcc-yfcc_30e_paper.py', '../_base_/datasets/voc12_zeroshot.py']
# test only: drop the training parts of the base config
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
auto_scale_lr = None
sync_bn = None

classes = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
           'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
           'sheep', 'sofa', 'train', 'tvmonitor')
model = dict(
    type='GroupViTSegmentor',
    class_names=classes,
    templates=('a photo of a {}.', ),
    rename=dict(diningtable='table', pottedplant='plant', tvmonitor='monitor'),
    with_bg=True,
    bg_thresh=0.95,
    topk=5,
    test_cfg=dict(mode='slide', crop_size=448, stride=224, short_side=448))

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
