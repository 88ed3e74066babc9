# Ablation (the paper's central one): load only "none" from the GLID pre-training
# checkpoint; everything else starts from its initialisation.
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py']
model = dict(pretrained=dict(load='none'))
