# Peekaboo (fourier-bilateral alpha, Stable Diffusion v1.4) on VOC-C: zero-shot semantic
# segmentation, nothing is trained. Settings of the official release: alpha 256 x 256 from
# 128 Gaussian Fourier features (scale 10) through a 3-layer 256-channel MLP, image-guided
# bilateral blur (kernel 3, sigma 5, colour tolerance 0.08, 40 iterations); dream loss with
# classifier-free guidance 100 and t ~ U[20, 980], weighted by 1 - alphas_cumprod; gravity 0.05;
# SGD lr 1e-5 for 300 iterations on one random solid-colour background per step.
#   python tools/test.py configs/peekaboo/peekaboo_sd14-fourier-bilateral_voc12.py none
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/voc12_peekaboo.py',
    '../_base_/models/peekaboo_sd14-fourier-bilateral.py'
]

# The prompts of the 21 VOC labels (the dataset's names, spelt out as words).
class_names = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'dining table', 'dog', 'horse', 'motorbike', 'person',
               'potted plant', 'sheep', 'sofa', 'train', 'tv monitor')
model = dict(mode='semantic', class_names=class_names)

default_hooks = dict(
    logger=dict(interval=10),
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='mmseg.SegLocalVisualizer', name='visualizer', alpha=0.6)
