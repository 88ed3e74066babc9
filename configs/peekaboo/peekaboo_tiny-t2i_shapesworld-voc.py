# Peekaboo (semantic) on ShapesWorld (VOC layout) with a *learned* guide: the tiny
# text-to-image model of checkpoints/peekaboo_tiny_t2i_shapesworld (not shipped yet; see
# peekaboo_tiny-t2i_shapesworld-refcoco.py and docs/peekaboo_demo.md). Prompts: the five class
# names; background (sky and ground) where no mask reaches 0.5.
#   python tools/test.py configs/peekaboo/peekaboo_tiny-t2i_shapesworld-voc.py none
_base_ = './peekaboo_tiny-sd_shapesworld-voc.py'

# class-coloured ShapesWorld (red circles, green squares, blue triangles, yellow stars), the
# data the model was trained on (its val split is never seen in training):
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld_cc_t2i --num-train 1024 \
#       --num-val 16 --image-size 96 --formats coco refcoco voc --class-colors
data_root = 'data/shapesworld_cc_t2i/voc/VOCdevkit/VOC2012'
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

model = _base_.tiny_t2i  # noqa: F821 (mmengine base variable)
