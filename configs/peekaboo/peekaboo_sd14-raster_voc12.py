# Ablation: the alpha mask is a plain learnable 256 x 256 raster of logits, no bilateral blur.
_base_ = './peekaboo_sd14-fourier-bilateral_voc12.py'
model = dict(alpha=dict(_delete_=True, type='RasterAlpha', bilateral=None))
