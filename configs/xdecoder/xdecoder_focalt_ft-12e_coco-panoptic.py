# Task-specific fine-tuning of the pre-trained X-Decoder Focal-T on COCO panoptic (generic
# segmentation only; no extra head). Evaluated with mmdet CocoPanopticMetric and
# CocoMetric(segm); semantic maps (mmseg IoUMetric) come with the same predictions.
#   bash tools/dist_train.sh configs/xdecoder/xdecoder_focalt_ft-12e_coco-panoptic.py 8 \
#       --cfg-options load_from=work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_panoptic.py',
    '../_base_/default_runtime.py', './xdecoder_focalt_recipe.py'
]
default_scope = 'mmgen_vision'
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                                     max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
model = dict(class_names='mmdet.CocoPanopticDataset', task='panoptic')
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[11], gamma=0.1,
         convert_to_iter_based=True),
]
