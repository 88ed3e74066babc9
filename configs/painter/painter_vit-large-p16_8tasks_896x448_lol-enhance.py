# In-context evaluation of Painter ViT-L on lol val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: LoL PSNR 22.34 / SSIM 0.872.
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_lol-enhance.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_restoration.py']
test_dataloader = dict(
    dataset=dict(
        task='lol_enhance',
        prompt=dict(dataset={{_base_.lol_enhance.dataset}}, index=0),
        dataset=dict(
            data_root='data/restoration/lol', input_dir='val/low', target_dir='val/high')))
