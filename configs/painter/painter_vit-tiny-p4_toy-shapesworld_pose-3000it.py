# The pose-emphasised toy (painter_vit-tiny-p4_toy-shapesworld_pose-1000it.py) trained three
# times as long: the toy keypoint learning run of configs/painter/README.md ("Keypoints with the
# flip test"; keypoint AP 0.305 with the flip test after 3000 iterations, seed 0, 1 thread).
# The schedule is the 1000-iteration one stretched (what `tools/train.py --max-iters 3000`
# does): warm-up 120 iterations, cosine to 1e-5 over the remaining 2880.
#   python tools/train.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-3000it.py
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-3000it.py <ckpt>
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_pose-1000it.py']
max_iters = 3000
warmup_iters = 120
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-5,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
