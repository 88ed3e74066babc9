# In-context evaluation of Painter ViT-L on sidd val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: SIDD PSNR 38.66 / SSIM 0.954.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_sidd-denoise.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_restoration.py']
test_dataloader = dict(
    dataset=dict(
        task='sidd_denoise',
        prompt=dict(dataset={{_base_.sidd_denoise.dataset}}, index=0),
        dataset=dict(
            data_root='data/restoration/sidd', input_dir='val/input', target_dir='val/target')))
