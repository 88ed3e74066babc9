# In-context evaluation of Painter ViT-L on rain val pairs: prompt = a training pair,
# PSNR / SSIM of the restored image. Paper: Rain100 PSNR 29.42 / SSIM 0.867 (Y channel).
#   python tools/test.py configs/painter/painter_vit-large-p16_8tasks_896x448_rain-derain.py <ckpt>
_base_ = ['./painter_vit-large-p16_8tasks_896x448_restoration.py']
test_dataloader = dict(
    dataset=dict(
        task='derain',
        prompt=dict(dataset={{_base_.derain.dataset}}, index=0),
        dataset=dict(
            data_root='data/restoration/rain', input_dir='val/input', target_dir='val/target')))
test_evaluator = dict(convert_to='Y')  # PSNR / SSIM on the Y channel
