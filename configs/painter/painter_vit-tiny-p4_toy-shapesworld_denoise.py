# In-context denoising with the toy Painter on ShapesWorld val (SIDD-style pairs): prompt =
# training pair 0; PSNR / SSIM (RGB) of the output against the clean image.
#   python tools/test.py configs/painter/painter_vit-tiny-p4_toy-shapesworld_denoise.py <ckpt>
_base_ = ['./painter_vit-tiny-p4_toy-shapesworld_in-context.py']
test_dataloader = dict(
    dataset=dict(
        task='denoise',
        codec={{_base_.codecs.denoise}},
        prompt=dict(dataset={{_base_.sw_denoise}}, index=0),
        dataset=dict(
            type='PainterRestorationDataset',
            data_root='data/shapesworld64/restoration/sidd',
            input_dir='val/input',
            target_dir='val/target',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadPairedImage'),
                dict(type='PackRestorationInputs')
            ])))
test_evaluator = dict(type='RestorationMetric', metric_names=['PSNR', 'SSIM'])
