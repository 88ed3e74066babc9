# Ablation: soft assignment and no multi-label loss.
_base_ = ['./groupvit-1stage_gcc-yfcc_30e.py']
model = dict(multi_label=0, image_encoder=dict(hard_assignment=False, gumbel=False))
