# Ablation: 32 group tokens (-> 8 output segments) in the single grouping stage
# (groupvit-1stage_gcc-yfcc_30e.py has 64).
_base_ = ['./groupvit-1stage_gcc-yfcc_30e.py']
model = dict(image_encoder=dict(num_group_tokens=(32, 0)))
