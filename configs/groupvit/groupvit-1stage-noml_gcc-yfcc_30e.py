# Ablation: hard assignment WITHOUT the multi-label contrastive loss (captions only).
_base_ = ['./groupvit-1stage_gcc-yfcc_30e.py']
model = dict(multi_label=0)
