# Toy Peekaboo (referring) for CPU smoke runs: ShapesWorld in the RefCOCO layout (val split), a
# tiny random Stable Diffusion directory (build_tiny_stable_diffusion), 32 x 32 alpha,
# 64 x 64 composites, 10 iterations. It checks the plumbing, not the accuracy.
#   python tools/test.py configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py none
_base_ = ['./peekaboo_sd14-fourier-bilateral_refcoco.py', './peekaboo_tiny_guides.py']

img_size = 64
data_root = 'data/shapesworld/refcoco'
# the SD config's pipeline, the centred square resized to img_size
test_pipeline = [dict(step, size=img_size) if step['type'] == 'CenterCropSquare' else step
                 for step in _base_.test_pipeline]  # noqa: F821 (mmengine base variable)
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(_base_.tiny_sd, image_size=img_size)  # noqa: F821
default_hooks = dict(logger=dict(interval=1))
