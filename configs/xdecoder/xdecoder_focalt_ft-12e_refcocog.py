# Fine-tuning X-Decoder Focal-T on RefCOCOg referring segmentation (grounding queries + phrase
# tokens; cIoU / mIoU with ReferringSegMetric).
#   bash tools/dist_train.sh configs/xdecoder/xdecoder_focalt_ft-12e_refcocog.py 8 \
#       --cfg-options load_from=work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_refcocog.py',
    './xdecoder_focalt_ft-12e_recipe.py'
]
model = dict(task='referring')
