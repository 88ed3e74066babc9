# Peekaboo (referring) on class-coloured ShapesWorld with a *learned* guide: a tiny
# text-to-image latent diffusion model trained on ShapesWorld captions by
# tools/misc/train_tiny_text2img.py, in checkpoints/peekaboo_tiny_t2i_shapesworld (diffusers
# layout, loaded by the same StableDiffusionGuide as Stable Diffusion v1.4). That directory is
# NOT shipped yet: the model trained so far does not beat the random guide, see
# docs/peekaboo_demo.md (training command, measurements, what it needs). Same PeekabooSegmentor
# and optimisation code as the SD configs; only the guide directory, the sizes (32 x 32 alpha and
# composites, the model's training resolution) and the optimisation settings of a 32 px model
# differ (starting points, not tuned yet).
#   python tools/test.py configs/peekaboo/peekaboo_tiny-t2i_shapesworld-refcoco.py none
_base_ = './peekaboo_tiny-sd_shapesworld-refcoco.py'

# class-coloured ShapesWorld (red circles, green squares, blue triangles, yellow stars), the
# data the model was trained on (its val split is never seen in training):
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld_cc_t2i --num-train 1024 \
#       --num-val 16 --image-size 96 --formats coco refcoco voc --class-colors
data_root = 'data/shapesworld_cc_t2i/refcoco'
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = _base_.tiny_t2i  # noqa: F821 (mmengine base variable)
