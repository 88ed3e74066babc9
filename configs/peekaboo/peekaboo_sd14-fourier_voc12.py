# Ablation: Fourier-feature MLP alpha without the image-guided bilateral blur.
_base_ = './peekaboo_sd14-fourier-bilateral_voc12.py'
model = dict(alpha=dict(bilateral=None))
