# Peekaboo with the official release's settings (Stable Diffusion v1.4, fourier-bilateral alpha),
# shared by the VOC-C (semantic) and RefCOCO-C (referring) configs. Alpha 256 x 256 from 128
# Gaussian Fourier features (scale 10) through a 3-layer 256-channel MLP, image-guided bilateral
# blur (kernel 3, sigma 5, colour tolerance 0.08, 40 iterations); dream loss with classifier-free
# guidance 100 and t ~ U[20, 980], weighted by 1 - alphas_cumprod; gravity 0.05; SGD lr 1e-5 for
# 300 iterations on one random solid-colour background per step. Nothing is trained.
model = dict(
    type='PeekabooSegmentor',
    data_preprocessor=dict(
        type='mmseg.SegDataPreProcessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    guide=dict(
        type='StableDiffusionGuide',
        # a local diffusers directory of CompVis/stable-diffusion-v1-4 (see the README);
        # nothing is downloaded at run time
        pretrained_path='checkpoints/stable-diffusion-v1-4',
        half_precision=False,  # fp32 as the release; True runs the frozen SD in fp16
        guidance_scale=100.0,
        min_step=20,
        max_step=980,
        weighting='1-alphas_cumprod'),
    alpha=dict(
        type='FourierAlpha',
        num_frequencies=128,
        scale=10.0,
        hidden_channels=256,
        num_layers=3,
        bilateral=dict(kernel_size=3, sigma=5.0, color_tolerance=0.08, num_iters=40)),
    mode='semantic',
    mask_size=256,
    image_size=512,
    num_iters=300,
    num_backgrounds=1,
    optimizer=dict(type='SGD', lr=1e-5),
    gravity_weight=0.05,
    intersection_weight=0.0,
    class_names=None,  # semantic mode: every label name, in label order
    # semantic mode: the class named 'background' is the background (not prompted, predicted
    # below background_threshold); None: no background class. Never "the first class".
    background='background',
    background_threshold=0.5,
    prompt_template='{}',
    show_progress=True,
    evolution_dir=None,
    evolution_interval=50,
    seed=0)

# training-free: evaluation only
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
