# Ablation (paper Table 1/3 style): ONE grouping stage, 64 group tokens -> 8 output segments,
# 12 transformer blocks split 6 + 6; hard assignment, multi-label loss on.
# The paper's ablations train on CC12M only; point train_dataloader at it to reproduce them.
_base_ = ['./groupvit_gcc-yfcc_30e_paper.py']
model = dict(
    image_encoder=dict(depths=(6, 6), num_group_tokens=(64, 0), num_output_groups=(8, )))
