# GroupViT, paper size (released gcc_yfcc 30-epoch model): model part only.
# Weights: tools/model_converters/groupvit_to_mmgv.py converts the official checkpoint.
default_scope = 'mmgen_vision'

model = dict(
    type='GroupViT',
    image_encoder=dict(
        type='GroupViTImageEncoder',
        img_size=224,
        patch_size=16,
        embed_dim=384,
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
    contrast_temperature=0.07,
    logit_scale_max=100.0,
    multi_label=3,
    share_temperature=False,
    multi_label_loss_weight=1.0)
