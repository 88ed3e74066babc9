# Painter (CVPR 2023), the paper's joint training of 8 tasks: ViT-L/16 on a 896 x 448 canvas.
#   bash tools/dist_train.sh configs/painter/painter_vit-large-p16_8tasks_896x448.py 8  # x8 nodes
# Initialisation: MAE ViT-L/16 (converted with tools/model_converters/painter_to_mmgv.py --mae).
# Official weights: tools/model_converters/painter_to_mmgv.py <painter.pth> <out.pth>.
#
# | item                  | value                                                        |
# |-----------------------|--------------------------------------------------------------|
# | backbone              | ViT-L/16, 24 blocks, dim 1024, merge after block 3, taps 6/12/18/24 |
# | canvas                | 896 x 448 (two 448 x 448 images)                             |
# | optimizer             | AdamW (0.9, 0.999), lr 1e-3, weight decay 0.05               |
# | layer-wise lr decay   | 0.8                                                          |
# | schedule              | 54k iterations, 5.4k warm-up, cosine                          |
# | drop path             | 0.1                                                          |
# | grad clip             | 3.0                                                          |
# | batch                 | 2 / GPU x 64 GPUs x 16 accumulation steps = 2048             |
# | precision             | AMP (fp16)                                                   |
# | task weights          | NYUv2 0.1, ADE 0.2, COCO inst 0.15, COCO sem 0.25, pose 0.2,  |
# |                       | SIDD 0.15, rain 0.05, LoL 0.05                               |
_base_ = [
    '../_base_/models/painter_vit-large-p16.py', '../_base_/datasets/painter_joint-8tasks.py',
    '../_base_/default_runtime.py'
]
model = dict(
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mae_pretrain_vit_large_mmgv.pth'))

max_iters = 54000
warmup_iters = 5400
accumulative_counts = 16
base_lr = 1e-3
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='float16',
    accumulative_counts=accumulative_counts,
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=3.0),
    constructor='LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=24))
# schedulers step per optimiser update: their units are iterations of the loop
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=1e-6, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None  # evaluation: the per-task configs (in-context, one prompt each)
auto_scale_lr = dict(enable=False, base_batch_size=2048)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=3))
