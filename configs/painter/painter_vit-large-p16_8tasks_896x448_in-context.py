# The shell shared by the per-task in-context evaluations of Painter ViT-L (8 tasks): the 8-task
# model, each test query painted under a prompt drawn from the task's training set, TestLoop.
# Not run on its own: a per-task config (painter_vit-large-p16_8tasks_896x448_<task>.py) adds
# test_dataloader.dataset.{task, codec, prompt, dataset} and the task's test_evaluator.
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
test_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PainterInContextDataset', img_size={{_base_.img_size}}))
test_cfg = dict(_delete_=True, type='TestLoop')
