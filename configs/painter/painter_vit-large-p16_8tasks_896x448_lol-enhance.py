# In-context evaluation of Painter ViT-L on lol val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: LoL PSNR 22.34 / SSIM 0.872.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_lol-enhance.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448.py']
test_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PainterInContextDataset',
        task='lol_enhance',
        codec=dict(type='RestorationCodec'),
        img_size={{_base_.img_size}},
        prompt=dict(dataset={{_base_.lol_enhance.dataset}}, index=0),
        dataset=dict(
            type='PainterRestorationDataset',
            data_root='data/restoration/lol',
            input_dir='val/low',
            target_dir='val/high',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadPairedImage'),
                dict(type='PackRestorationInputs')
            ])))
test_evaluator = dict(type='RestorationMetric', metric_names=['PSNR', 'SSIM'], convert_to=None)
test_cfg = dict(_delete_=True, type='TestLoop')
