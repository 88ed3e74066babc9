# X-Decoder Focal-T pre-training as in the paper / release: one set of weights trained jointly on
# COCO panoptic (generic segmentation, 1024 px LSJ), RefCOCOg (referring segmentation) and
# image-text pairs (captioning + retrieval, 224 px) in the same run, each source with its own
# batch size and resolution. 100 + 1 queries, 9 + 1 decoder layers, hidden 512.
#   bash tools/dist_train.sh configs/xdecoder/xdecoder_focalt_8xb4-50e_coco-joint.py 8
# Official weights: python tools/model_converters/xdecoder_to_mmgv.py xdecoder_focalt_last.pt \
#   work_dirs/xdecoder_focalt_last_mmgv.pth --check
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_joint.py',
    './xdecoder_focalt_recipe.py'
]

# class names of the COCO panoptic source (things first), read from mmdet's metainfo
model = dict(class_names='mmdet.CocoPanopticDataset', task='panoptic')
