# The tiny guides of the ShapesWorld Peekaboo configs, as changes to the SD v1.4 segmentor of
# peekaboo_sd14-fourier-bilateral_*.py: `tiny_sd`, a tiny RANDOM Stable Diffusion directory
# (mmgen_vision.testing.build_tiny_stable_diffusion: plumbing only) with a small alpha and 10
# iterations; `tiny_t2i`, on top of it, the tiny text-to-image model trained on ShapesWorld
# captions (tools/misc/train_tiny_text2img.py; not shipped yet, see docs/peekaboo_demo.md) at
# its training resolution, 32 px, with the optimisation settings of a 32 px model (starting
# points, not tuned yet). Not run on its own: the peekaboo_tiny-*.py configs list it in `_base_`
# and read these variables.
tiny_sd = dict(
    guide=dict(pretrained_path='data/tiny_sd', half_precision=False),
    alpha=dict(num_frequencies=16, hidden_channels=32, num_layers=2, bilateral=dict(num_iters=5)),
    mask_size=32,
    num_iters=10,
    show_progress=False)
tiny_t2i = dict(
    guide=dict(
        pretrained_path='checkpoints/peekaboo_tiny_t2i_shapesworld',
        guidance_scale=7.5,
        min_step=100,
        max_step=800),
    image_size=32,
    num_iters=100,
    num_backgrounds=2,
    optimizer=dict(type='Adam', lr=0.01),
    gravity_weight=0.005)
