# Fine-tuning X-Decoder Focal-T on COCO Captions (Karpathy split): captioning CE with weight
# tying + image-text contrastive loss. BLEU-4 / CIDEr-D with CaptionMetric; the paper decodes
# with beam search (beam 5), the release greedily (50 steps): set model.test_cfg.beam_size.
#   bash tools/dist_train.sh configs/xdecoder/xdecoder_focalt_ft-12e_coco-caption.py 8 \
#       --cfg-options load_from=work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_caption.py',
    './xdecoder_focalt_ft-12e_recipe.py'
]
model = dict(task='caption', test_cfg=dict(beam_size=5, caption_steps=50))
