# Ablation: soft assignment (no straight-through one-hot, no Gumbel noise), multi-label on.
_base_ = ['./groupvit-1stage_gcc-yfcc_30e.py']
model = dict(image_encoder=dict(hard_assignment=False, gumbel=False))
