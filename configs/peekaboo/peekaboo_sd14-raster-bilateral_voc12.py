# Ablation: learnable 256 x 256 raster of logits followed by the image-guided bilateral blur.
_base_ = './peekaboo_sd14-fourier-bilateral_voc12.py'
model = dict(
    alpha=dict(
        _delete_=True,
        type='RasterAlpha',
        bilateral=dict(kernel_size=3, sigma=5.0, color_tolerance=0.08, num_iters=40)))
