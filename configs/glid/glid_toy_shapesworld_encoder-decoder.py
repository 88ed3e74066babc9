# The toy GLID encoder-decoder of the ShapesWorld configs (64 px: a 4-stage Swin of width 32,
# 1 BiFPN layer, 3 decoder layers), pre-trained by glid_toy_shapesworld-pretrain.py and
# fine-tuned from its checkpoint by the other glid_toy_shapesworld-*.py configs. Not run on its
# own: the toy configs list it beside their paper config in `_base_` and read these variables.
toy_width = 64
toy_encoder_decoder = dict(
    backbone=dict(embed_dims=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), window_size=4,
                  drop_path_rate=0.),
    neck=dict(in_channels=(32, 64, 128, 256), out_channels=toy_width, num_layers=1,
              norm_cfg=dict(type='GN', num_groups=8)),
    decoder=dict(embed_dims=toy_width, num_layers=3, num_heads=4))
toy_pretrained_checkpoint = 'work_dirs/glid_toy_shapesworld-pretrain/iter_200.pth'
# the toy loaders: 8 scenes a batch, read in the main process
toy_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
