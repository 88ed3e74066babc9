# Task-specific fine-tuning of the pre-trained X-Decoder Focal-T on COCO panoptic (generic
# segmentation only; no extra head). Evaluated with mmdet CocoPanopticMetric and
# CocoMetric(segm); semantic maps (mmseg IoUMetric) come with the same predictions.
#   bash tools/dist_train.sh configs/xdecoder/xdecoder_focalt_ft-12e_coco-panoptic.py 8 \
#       --cfg-options load_from=work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_panoptic.py',
    './xdecoder_focalt_ft-12e_recipe.py'
]
model = dict(class_names='mmdet.CocoPanopticDataset', task='panoptic')
