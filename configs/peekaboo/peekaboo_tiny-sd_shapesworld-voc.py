# Toy Peekaboo (semantic) for CPU smoke runs: ShapesWorld in the VOC layout, a tiny random
# Stable Diffusion directory (mmgen_vision.testing.build_tiny_stable_diffusion),
# 32 x 32 alpha, 64 x 64 composites, 10 iterations. It checks the plumbing, not the accuracy.
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#   python -c "from mmgen_vision.testing import build_tiny_stable_diffusion; \
#              build_tiny_stable_diffusion('data/tiny_sd')"
#   python tools/test.py configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py none
_base_ = './peekaboo_sd14-fourier-bilateral_voc12.py'

img_size = 64
data_root = 'data/shapesworld/voc/VOCdevkit/VOC2012'
# ShapesWorld's VOC labels: 0 background (sky and ground), 1..5 the things, 255 object borders
class_names = ('background', 'circle', 'square', 'triangle', 'star', 'person')
metainfo = dict(
    classes=class_names,
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128]])
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmseg.LoadAnnotations'),
    dict(type='CenterCropSquare', as_original=True, size=img_size),
    dict(
        type='mmseg.PackSegInputs',
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'crop_bbox', 'reduce_zero_label')),
]
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        type='mmseg.BaseSegDataset',
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.jpg',
        seg_map_suffix='.png',
        pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    guide=dict(pretrained_path='data/tiny_sd', half_precision=False),
    alpha=dict(
        num_frequencies=16,
        hidden_channels=32,
        num_layers=2,
        bilateral=dict(num_iters=5)),
    mask_size=32,
    image_size=img_size,
    num_iters=10,
    class_names=class_names,
    show_progress=False)
default_hooks = dict(logger=dict(interval=1))
