# The shell shared by the toy Painter's in-context evaluations on ShapesWorld val: each query
# painted under a prompt drawn from the task's training set, TestLoop. Not run on its own: a
# per-task config (painter_vit-tiny-p4_toy-shapesworld_<task>.py) adds
# test_dataloader.dataset.{task, codec, prompt, dataset} and the task's test_evaluator.
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py']
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PainterInContextDataset', img_size={{_base_.toy_img_size}}))
test_cfg = dict(_delete_=True, type='TestLoop')
