# Painter ViT-L/16 on a 896 x 448 canvas (two 448 x 448 images stacked), the released model
# painter_vit_large_patch16_input896x448_win_dec64_8glb_sl1 (~370.7M parameters).
canvas_size = (896, 448)
model = dict(
    type='Painter',
    data_preprocessor=dict(type='PainterDataPreprocessor'),  # ImageNet mean / std, both canvases
    backbone=dict(
        type='PainterViT',
        img_size=canvas_size,
        patch_size=16,
        embed_dims=1024,
        num_layers=24,
        num_heads=16,
        mlp_ratio=4.,
        qkv_bias=True,
        drop_path_rate=0.1,
        norm_eps=1e-6,
        pretrain_img_size=224,  # MAE ViT-L/16 pos_embed (14 x 14 + cls), bicubic-resized
        use_rel_pos=True,  # decomposed rel-pos in every block: (111, 64) and (55, 64) tables
        merge_index=2,  # the two streams are averaged after the 3rd block
        out_indices=(5, 11, 17, 23),  # taps through the shared norm
        window_size=14,
        window_block_indexes=(),  # the release's list never matches: all blocks are global
        prompt_isolation=False,
        with_cp=False),
    head=dict(type='PainterHead', in_channels=1024, num_taps=4, patch_size=16, embed_dims=64),
    loss=dict(type='PainterLoss', beta=0.01, min_visible_sum=300.),
    # the release masks 784 of the 1568 canvas patches (the paper text says 75%), blocks of
    # 16..392 patches; 10% of the samples mask exactly the query half (in-context layout)
    mask_generator=dict(ratio=0.5, min_block=16, max_block=392, half_prob=0.1),
    codecs=dict(
        nyuv2_depth=dict(type='DepthCodec', max_depth=10.),
        ade20k_semantic=dict(type='ADE20KSemanticCodec'),
        coco_semantic=dict(type='COCOPanopticSemanticCodec'),
        coco_instance=dict(type='InstanceCodec', dist_thr=19., nms_sigma=2., max_per_img=100),
        coco_pose=dict(
            type='KeypointCodec',
            sigma=3.,
            flip_indices=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]),
        sidd_denoise=dict(type='RestorationCodec'),
        derain=dict(type='RestorationCodec'),
        lol_enhance=dict(type='RestorationCodec')),
    test_cfg=dict(use_cache=False))
