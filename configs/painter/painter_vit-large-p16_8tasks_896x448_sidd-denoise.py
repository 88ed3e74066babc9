# In-context evaluation of Painter ViT-L on sidd val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: SIDD PSNR 38.66 / SSIM 0.954.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_sidd-denoise.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
test_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PainterInContextDataset',
        task='sidd_denoise',
        codec=dict(type='RestorationCodec'),
        img_size={{_base_.img_size}},
        prompt=dict(dataset={{_base_.sidd_denoise.dataset}}, index=0),
        dataset=dict(
            type='PainterRestorationDataset',
            data_root='data/restoration/sidd',
            input_dir='val/input',
            target_dir='val/target',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadPairedImage'),
                dict(type='PackRestorationInputs')
            ])))
test_evaluator = dict(type='RestorationMetric', metric_names=['PSNR', 'SSIM'], convert_to=None)
test_cfg = dict(_delete_=True, type='TestLoop')
