# In-context depth estimation with the toy Painter on ShapesWorld val (NYUv2 layout): prompt =
# training scene 0 and its depth; stock mmseg DepthMetric on 1 mm .. 20 m (the 20 m sky is
# excluded, like NYUv2's invalid pixels).
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_depth.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_in-context.py']
test_dataloader = dict(
    dataset=dict(
        task='depth',
        codec={{_base_.codecs.depth}},
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
