# Ablation: fine-tuning with 50% of the COCO train2017 images (the first ones listed).
_base_ = ['./glid_swin-b_8xb2-50e_coco-det.py']
num_train_images = 118287 * 50 // 100
train_dataloader = dict(dataset=dict(indices=num_train_images))
