# In-context evaluation of Painter ViT-L on NYUv2 depth (654 test images): prompt = a training
# pair, stock mmseg DepthMetric with the Eigen crop, 1e-3 .. 10 m. Paper: RMSE 0.288,
# AbsRel 0.080, d1 0.950.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_nyuv2-depth.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_in-context.py']
test_dataloader = dict(
    dataset=dict(
        task='nyuv2_depth',
        codec=dict(type='DepthCodec', max_depth=10.),
        prompt=dict(dataset={{_base_.nyuv2_depth.dataset}}, index=0),
        dataset=dict(
            type='mmseg.NYUDataset',
            data_root='data/nyu',
            data_prefix=dict(img_path='val/rgb', depth_map_path='val/depth'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='mmseg.LoadDepthAnnotation', depth_rescale_factor=1e-3),
                dict(type='mmseg.PackSegInputs')
            ])))
test_evaluator = dict(
    type='mmseg.DepthMetric', min_depth_eval=1e-3, max_depth_eval=10., crop_type='nyu_crop')
