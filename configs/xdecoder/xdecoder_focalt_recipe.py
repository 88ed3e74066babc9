# X-Decoder optimisation recipe of the release (shared by the pre-training and fine-tuning
# configs): AdamW lr 1e-4, weight decay 0.05, lr x 0.1 for the backbone and the language
# encoder, no decay on norms / queries / embeddings / logit scale, gradient clipping 5.0, fp16
# AMP; 50 epochs with multi-step decay (x 0.1) at 0.889 and 0.963 of training; logs and
# checkpoints counted in epochs (every 5th kept, the last 3). The configs list it in `_base_`
# with their model and dataset bases, in the place of default_runtime.py.
_base_ = ['../_base_/default_runtime.py']
max_epochs = 50
base_lr = 1e-4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='float16',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        custom_keys={
            'backbone': dict(lr_mult=0.1),
            'lang_encoder': dict(lr_mult=0.1),
            'lang_encoder.logit_scale': dict(lr_mult=0.1, decay_mult=0.),
            'query_feat': dict(decay_mult=0.),
            'query_embed': dict(decay_mult=0.),
            'level_embed': dict(decay_mult=0.),
            'caption_pos_embed': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs,
         milestones=[round(0.889 * max_epochs), round(0.963 * max_epochs)], gamma=0.1,
         convert_to_iter_based=True),
]
# 8 GPUs x (4 panoptic + 4 referring + 128 image-text) per GPU
auto_scale_lr = dict(enable=False, base_batch_size=32)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                                     max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
