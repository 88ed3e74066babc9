# Ablation (paper Table "joint vs. separate training"): the paper recipe trained on ONE task,
# nyuv2_depth, instead of the 8-task mixture. Evaluate with the matching *_8tasks_*_nyuv2-depth.py
# config and --cfg-options pointing at this checkpoint.
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
# the 8-task loader (batch size, workers) on that task's pairs alone
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_base_.nyuv2_depth, _delete_=True))  # noqa: F821 (mmengine base variable)
