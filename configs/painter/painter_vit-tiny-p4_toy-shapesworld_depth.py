# In-context depth estimation with the toy Painter on ShapesWorld val (NYUv2 layout): prompt =
# training scene 0 and its depth; stock mmseg DepthMetric on 1 mm .. 20 m (the 20 m sky is
# excluded, like NYUv2's invalid pixels).
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_depth.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py']
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PainterInContextDataset',
        task='depth',
        codec=dict(type='DepthCodec', max_depth=20.),
        img_size={{_base_.toy_img_size}},
        prompt=dict(dataset={{_base_.sw_depth}}, index=0),
        dataset=dict(
            type='mmseg.NYUDataset',
            data_root='data/shapesworld64/nyu',
            data_prefix=dict(img_path='val/rgb', depth_map_path='val/depth'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
                dict(type='mmseg.PackSegInputs')
            ])))
test_evaluator = dict(type='mmseg.DepthMetric', min_depth_eval=1e-3, max_depth_eval=20.)
test_cfg = dict(_delete_=True, type='TestLoop')
