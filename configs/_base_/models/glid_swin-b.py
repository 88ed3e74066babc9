# GLID's generalist encoder-decoder at paper scale: Swin-B encoder, BiFPN (the 1/4-scale
# level is f_b), 6-layer query decoder. Shared verbatim by pre-training and every fine-tuning
# config, each of which sets ``model.type`` and its task arguments.
model = dict(encoder_decoder=dict(
    type='GLIDEncoderDecoder',
    backbone=dict(
        type='GLIDSwinTransformer',
        embed_dims=128,
        depths=(2, 2, 18, 2),
        num_heads=(4, 8, 16, 32),
        window_size=7,
        mlp_ratio=4,
        patch_size=4,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        with_cp=False),
    neck=dict(
        type='BiFPN',
        in_channels=(128, 256, 512, 1024),
        out_channels=256,
        num_layers=3,
        norm_cfg=dict(type='GN', num_groups=32)),
    decoder=dict(
        type='GLIDTransformerDecoder',
        embed_dims=256,
        num_layers=6,
        num_heads=8,
        mlp_ratio=4.,
        memory_levels=(1, 2, 3),
        with_cp=False)))
