# Toy GroupViT trained on ShapesWorld image-caption shards in a few CPU minutes (the paper recipe
# shrunk to toy scale: text supervision only, contrastive + multi-label losses).
# Data: the class-coloured ShapesWorld variant (red circles, green squares, blue triangles,
# yellow stars; black stick-figure person), 1024 scenes at 64 px, as the acceptance test
# (tests/test_tools/test_groupvit_e2e.py) renders it:
#   python -c "from mmgen_vision.datasets import generate_shapesworld as g; \
#       g('data/shapesworld_cc', num_train=1024, num_val=64, image_size=64, \
#         formats=('shards', 'voc'), samples_per_shard=128, class_colors=True)"
#   python tools/train.py configs/groupvit/groupvit_toy_shapesworld.py \
#       --cfg-options train_dataloader.dataset.data_root=data/shapesworld_cc/shards
# then zero-shot segmentation with groupvit_toy_shapesworld-voc-zeroshot.py. With the default
# (randomly coloured) ShapesWorld the tiny encoder does not learn the shapes in this budget
# (see the README's toy section).
_base_ = ['../_base_/datasets/shapesworld_image_text.py', '../_base_/default_runtime.py']
default_scope = 'mmgen_vision'

img_size = 64
context_length = 48  # the longest ShapesWorld caption has fewer tokens
prompt_templates = ('a photo of a {}.', 'a photograph of a {}.', 'a picture of a {}.',
                    'an image of a {}.')
train_pipeline = [
    dict(type='LoadImageFromShard'),
    dict(type='RandomResize', scale=(img_size, img_size), ratio_range=(1.0, 1.25),
         keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=(img_size, img_size)),
    dict(type='ExtractNouns', num_nouns=3),
    # the first 4 of the recipe's 80 prompt templates (the zero-shot config prompts with these)
    dict(type='PromptNouns', templates=prompt_templates),
    dict(type='TokenizeText', context_length=context_length, pad_token='zero'),
    dict(type='PackImageTextInputs'),
]
train_dataloader = dict(
    batch_size=48,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(pipeline=train_pipeline))

model = dict(
    type='GroupViT',
    data_preprocessor=dict(
        type='ImgDataPreprocessor',
        mean=[122.7709383, 116.7460125, 104.09373615],
        std=[68.5005327, 66.6321579, 70.32316305],
        bgr_to_rgb=True),
    image_encoder=dict(
        type='GroupViTImageEncoder',
        img_size=img_size,
        patch_size=4,
        embed_dims=64,
        depths=(2, 1),
        num_heads=4,
        num_group_tokens=(8, 0),
        num_output_groups=(8, ),
        hard_assignment=True,
        drop_path_rate=0.0),
    text_encoder=dict(
        type='GroupViTTextEncoder', context_length=context_length, width=64, layers=2, heads=2),
    output_dim=64,
    proj_hidden_channels=256,
    multi_label=3,
    # ShapesWorld has 9 nouns that recur in every batch: a noun prompt is a positive of every
    # image whose caption names that noun, whatever template prompted it (the release's rule,
    # own prompts only, assumes a web-scale vocabulary)
    multi_label_same_noun_positive=True)

max_iters = 300
warmup_iters = 30
base_lr = 3e-3
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        flat_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            # 10x lr for the group tokens: drawn at std 0.02 next to unit-scale patch tokens,
            # in 300 steps at 3e-3 they stay too small to differ after the blocks and the
            # grouping collapses to 2-3 groups on some seeds (configs/groupvit/README.md, toy)
            'group_token': dict(decay_mult=0., lr_mult=10.),
            'logit_scale': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=base_lr * 0.01,
         by_epoch=False, begin=warmup_iters, end=max_iters),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=25),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=25)
