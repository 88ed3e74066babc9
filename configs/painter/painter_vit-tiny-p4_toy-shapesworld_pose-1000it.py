# The toy pose config (4 toy tasks + keypoints, joint training) with keypoints and instances
# drawn more often: the documented longer run of the toy keypoint / panoptic-things learning
# check (configs/painter/README.md, "Keypoints with the flip test"). Only the sampler weights
# and the checkpoint interval differ from painter_vit-tiny-p4_toy-shapesworld_pose.py.
#   python tools/train.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-1000it.py
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose-1000it.py <ckpt>
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_pose.py']
train_dataloader = dict(
    sampler=dict(weights=dict(semantic=0.15, depth=0.1, denoise=0.1, instance=0.25, pose=0.4)))
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=4))
