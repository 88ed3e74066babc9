# Ablation: fine-tuning with 25% of the ADE20K training images (the first ones of the
# sorted list), GLID pre-trained vs. the supervised-style baseline (load=encoder, see the
# _load-encoder config) under the same data budget.
_base_ = ['./glid_swin-b_8xb2-160k_ade20k-512x512-semseg.py']
num_train_images = 20210 * 25 // 100
train_dataloader = dict(dataset=dict(indices=num_train_images))
