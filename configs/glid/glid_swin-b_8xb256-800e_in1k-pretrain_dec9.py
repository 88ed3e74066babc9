# Ablation: pre-training with a 9-layer decoder (default 6).
_base_ = ['./glid_swin-b_8xb256-800e_in1k-pretrain.py']
model = dict(encoder_decoder=dict(decoder=dict(num_layers=9)))
