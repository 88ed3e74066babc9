# Ablation: decoder depth 9 (default 6) in pre-training and fine-tuning (the pre-training run
# must use the same depth: pass its checkpoint as model.pretrained.checkpoint).
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py']
model = dict(encoder_decoder=dict(decoder=dict(num_layers=9)))
