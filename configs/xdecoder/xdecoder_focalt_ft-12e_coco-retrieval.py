# X-Decoder Focal-T image-text retrieval on COCO (Karpathy test, 5k images): global-query
# embeddings vs. pooled caption embeddings, Recall@1/5/10 in both directions (RetrievalMetric).
# Zero-shot evaluation of the pre-trained weights:
#   python tools/test.py configs/xdecoder/xdecoder_focalt_ft-12e_coco-retrieval.py \
#       work_dirs/xdecoder_focalt_last_mmgv.pth
_base_ = [
    '../_base_/models/xdecoder_focalt.py', '../_base_/datasets/xdecoder_coco_retrieval.py',
    './xdecoder_focalt_ft-12e_recipe.py'
]
model = dict(task='retrieval')
