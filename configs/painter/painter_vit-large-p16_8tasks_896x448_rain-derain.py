# In-context evaluation of Painter ViT-L on rain val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: Rain100 PSNR 29.42 / SSIM 0.867 (Y channel).
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_rain-derain.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
test_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PainterInContextDataset',
        task='derain',
        codec=dict(type='RestorationCodec'),
        img_size={{_base_.img_size}},
        prompt=dict(dataset={{_base_.derain.dataset}}, index=0),
        dataset=dict(
            type='PainterRestorationDataset',
            data_root='data/restoration/rain',
            input_dir='val/input',
            target_dir='val/target',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadPairedImage'),
                dict(type='PackRestorationInputs')
            ])))
test_evaluator = dict(type='RestorationMetric', metric_names=['PSNR', 'SSIM'], convert_to='Y')
test_cfg = dict(_delete_=True, type='TestLoop')
