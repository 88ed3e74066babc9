# Ablation (the paper's central one): load only "encoder" from the GLID pre-training
# checkpoint; everything else starts from its initialisation.
_base_ = ['./glid_swin-b_8xb8-40k_nyu-depth.py']
model = dict(pretrained=dict(load='encoder'))
