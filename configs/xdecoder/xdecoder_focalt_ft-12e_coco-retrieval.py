# X-Decoder Focal-T image-text retrieval on COCO (Karpathy test, 5k images): global-query
# embeddings vs. pooled caption embeddings, Recall@1/5/10 in both directions (RetrievalMetric).
# Zero-shot evaluation of the pre-trained weights:
#   python tools/test.py configs/xdecoder/xdecoder_focalt_ft-12e_coco-retrieval.py \
#       work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_retrieval.py',
    '../_base_/default_runtime.py', './xdecoder_focalt_recipe.py'
]
default_scope = 'mmgen_vision'
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=5,
                                     max_keep_ckpts=3))
log_processor = dict(by_epoch=True)
model = dict(task='retrieval')
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[11], gamma=0.1,
         convert_to_iter_based=True),
]
