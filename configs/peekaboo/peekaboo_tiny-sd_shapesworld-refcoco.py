# Toy Peekaboo (referring) for CPU smoke runs: ShapesWorld in the RefCOCO layout (val split), a
# tiny random Stable Diffusion directory (build_tiny_stable_diffusion), 32 x 32 alpha,
# 64 x 64 composites, 10 iterations. It checks the plumbing, not the accuracy.
#   python tools/test.py configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py none
_base_ = './peekaboo_sd14-fourier-bilateral_refcoco.py'

img_size = 64
data_root = 'data/shapesworld/refcoco'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='CenterCropSquare', as_original=True, size=img_size),
    dict(
        type='mmseg.PackSegInputs',
        meta_keys=('img_path', 'img_id', 'ori_shape', 'img_shape', 'scale_factor', 'crop_bbox',
                   'text', 'ref_id', 'ann_id', 'sent_id')),
]
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
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
    show_progress=False)
default_hooks = dict(logger=dict(interval=1))
