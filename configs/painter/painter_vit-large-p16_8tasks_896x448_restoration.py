# The in-context evaluation shared by Painter ViT-L's three restoration tasks (SIDD denoising,
# Rain derain, LoL enhancement): paired validation images (PainterRestorationDataset), painted
# through the RestorationCodec, PSNR / SSIM of the restored image. Not run on its own: the
# per-task configs (painter_vit-large-p16_8tasks_896x448_{sidd-denoise,rain-derain,lol-enhance}.py)
# name the task, its prompt and its data.
_base_ = ['./painter_vit-large-p16_8tasks_896x448_in-context.py']
test_dataloader = dict(
    dataset=dict(
        codec=dict(type='RestorationCodec'),
        dataset=dict(
            type='PainterRestorationDataset',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadPairedImage'),
                dict(type='PackRestorationInputs')
            ])))
test_evaluator = dict(type='RestorationMetric', metric_names=['PSNR', 'SSIM'], convert_to=None)
