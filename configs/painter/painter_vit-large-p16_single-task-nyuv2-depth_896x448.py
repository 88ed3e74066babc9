# Ablation (paper Table "joint vs. separate training"): the paper recipe trained on ONE task,
# nyuv2_depth, instead of the 8-task mixture. Evaluate with the matching *_8tasks_*_nyuv2-depth.py
# config and --cfg-options pointing at this checkpoint.
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
train_dataloader = dict(
    _delete_=True,
    batch_size=2,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset={{_base_.nyuv2_depth}})
