# GroupViT, paper recipe (released gcc_yfcc 30-epoch model): 2-stage grouping ViT-S/16
# (64 -> 8 segment tokens), hard assignment, multi-label contrastive loss (K=3 nouns).
# Batch 4096 (256/GPU x 16 GPUs), 30 epochs, AdamW lr 1.6e-3, wd 0.05, cosine, warm-up 2 epochs
# (the release; the paper says 5), gradient clipping 5, SyncBN in the projectors.
#   bash tools/dist_train.sh configs/groupvit/groupvit_gcc-yfcc_30e_paper.py 8   # x2 nodes
# Weights of the official release: tools/model_converters/groupvit_to_mmgv.py.
_base_ = ['../_base_/datasets/cc_image_text.py', '../_base_/default_runtime.py']
default_scope = 'mmgen_vision'

# CLIP mean / std in 0-255 units; the shards give BGR images
data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[122.7709383, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    bgr_to_rgb=True)
model = dict(
    type='GroupViT',
    data_preprocessor=data_preprocessor,
    image_encoder=dict(
        type='GroupViTImageEncoder',
        img_size=224,
        patch_size=16,
        embed_dims=384,
        depths=(6, 3, 3),
        num_heads=6,
        num_group_tokens=(64, 8, 0),
        num_output_groups=(64, 8),
        hard_assignment=True,
        gumbel_tau=1.0,
        assign_eps=1.0,
        drop_path_rate=0.1),
    text_encoder=dict(
        type='GroupViTTextEncoder', context_length=77, vocab_size=49408, width=256, layers=12,
        heads=4),
    output_dim=256,
    proj_hidden_channels=4096,
    proj_num_layers=2,  # the release's proj_num_layers: Conv1d -> BN -> ReLU -> Conv1d
    contrast_temperature=0.07,
    logit_scale_max=100.0,
    multi_label=3,
    share_temperature=False,
    multi_label_loss_weight=1.0)
# the projectors' BatchNorm1d become SyncBatchNorm under distributed training
sync_bn = 'torch'

max_epochs = 30
warmup_epochs = 2
base_lr = 1.6e-3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8),
    clip_grad=dict(max_norm=5.0),
    # no weight decay on biases, norms, position embeddings, group tokens and temperatures
    paramwise_cfg=dict(
        flat_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'group_token': dict(decay_mult=0.),
            'logit_scale': dict(decay_mult=0.),
        }))
param_scheduler = [
    # 4e-6 -> 1.6e-3 over the warm-up, per iteration
    dict(type='LinearLR', start_factor=4e-6 / base_lr, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=4e-5,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
# the recipe's total batch; enable to scale the lr linearly with another total batch
auto_scale_lr = dict(enable=False, base_batch_size=4096)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=3))
log_processor = dict(by_epoch=True, window_size=50)
