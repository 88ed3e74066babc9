# Peekaboo (fourier-bilateral alpha, Stable Diffusion v1.4) on RefCOCO-C: zero-shot referring
# segmentation. Each expression (the sample's metainfo['text']) is the prompt of one binary
# alpha (1 = referred object). Same optimisation settings as the VOC-C config.
#   python tools/test.py configs/peekaboo/peekaboo_sd14-fourier-bilateral_refcoco.py none
#   ... --cfg-options test_dataloader.dataset.split=testA    (or testB)
_base_ = [
    '../_base_/default_runtime.py', '../_base_/datasets/refcoco_peekaboo.py',
    '../_base_/models/peekaboo_sd14-fourier-bilateral.py'
]

model = dict(mode='referring')

# --show-dir: one picture per expression (ground truth | prediction), the expression written
# under it (several expressions share an image; mmseg.SegLocalVisualizer names pictures after
# the image only, so each expression's picture overwrote the previous one)
default_hooks = dict(
    logger=dict(interval=10),
    visualization=dict(type='mmseg.SegVisualizationHook', draw=False, interval=1))
visualizer = dict(type='ReferringSegLocalVisualizer', name='visualizer', alpha=0.6)
