# X-Decoder image-text retrieval evaluation on the COCO Karpathy test split (5k images, 25k
# captions): every image with all of its captions tokenized; Recall@1/5/10 in both directions.
# Training data: xdecoder_coco_caption.py.
_base_ = ['./xdecoder_coco_caption.py']

test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='mmdet.Resize', scale=(224, 224), keep_ratio=False),
    dict(type='TokenizeXDecoderText', keys=dict(captions='all_caption'), context_length=77),
    dict(
        type='PackXDecoderInputs',
        task='retrieval',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'captions')),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# the release's protocol: a caption is a correct answer of its own image only
val_evaluator = dict(
    _delete_=True, type='RetrievalMetric', topk=(1, 5, 10), match_identical_captions=False)
test_evaluator = val_evaluator
