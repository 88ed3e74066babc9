# Toy Peekaboo (semantic) for CPU smoke runs: ShapesWorld in the VOC layout, a tiny random
# Stable Diffusion directory (mmgen_vision.testing.build_tiny_stable_diffusion),
# 32 x 32 alpha, 64 x 64 composites, 10 iterations. It checks the plumbing, not the accuracy.
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#   python -c "from mmgen_vision.testing import build_tiny_stable_diffusion; \
#              build_tiny_stable_diffusion('data/tiny_sd')"
#   python tools/test.py configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py none
_base_ = ['./peekaboo_sd14-fourier-bilateral_voc12.py', './peekaboo_tiny_guides.py']

img_size = 64
data_root = 'data/shapesworld/voc/VOCdevkit/VOC2012'
# ShapesWorld's VOC labels: 0 background (sky and ground), 1..5 the things, 255 object borders
class_names = ('background', 'circle', 'square', 'triangle', 'star', 'person')
metainfo = dict(
    classes=class_names,
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128]])
# the SD config's pipeline, the centred square resized to img_size
test_pipeline = [dict(step, size=img_size) if step['type'] == 'CenterCropSquare' else step
                 for step in _base_.test_pipeline]  # noqa: F821 (mmengine base variable)
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

model = dict(_base_.tiny_sd, image_size=img_size, class_names=class_names)  # noqa: F821
default_hooks = dict(logger=dict(interval=1))
