# Ablation (paper Table "joint vs. separate training"): the paper recipe trained on ONE task,
# ade20k_semantic, instead of the 8-task mixture. Evaluate with the matching *_8tasks_*_ade20k-semseg.py
# config and --cfg-options pointing at this checkpoint.
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
# the 8-task loader (batch size, workers) on that task's pairs alone
train_dataloader = dict(
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    dataset=dict(_base_.ade20k_semantic, _delete_=True))  # noqa: F821 (mmengine base variable)
