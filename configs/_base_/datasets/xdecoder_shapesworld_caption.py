# X-Decoder image-text data on ShapesWorld: the COCO captions file (five captions per image) for
# captioning and image-text retrieval; inherits xdecoder_coco_caption.py (64 px instead
# of 224, the image-text resolution being lower than the segmentation one as in the paper).
# Generate the data with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#
# Training (one sample per caption): caption_tokens (77,) / caption_mask (77,) (CLIP BPE ids,
# EOT-padded, and their validity; the model predicts token t + 1 at position t and contrasts the
# pooled caption with the global query), metainfo task='caption', text.
# Evaluation (one sample per image): all_caption_tokens (5, 77) / all_caption_mask (5, 77) for
# retrieval, metainfo captions (references) and img_id. The model returns `pred_caption` (str),
# `image_embeds` (D,) and `text_embeds` (5, D).
_base_ = ['./xdecoder_coco_caption.py']
data_root = 'data/shapesworld/coco/'
img_size = 64

# no flip and no crop: the captions say "left of" and name every object
train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(type='mmdet.Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='mmseg.PhotoMetricDistortion', hue_delta=9),
    _base_.train_pipeline[2],  # noqa: F821 tokenize the caption
    dict(_base_.train_pipeline[3],  # noqa: F821 pack
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
# the real test pipeline at 64 px, with every reference caption tokenized for retrieval
test_pipeline = [
    _base_.test_pipeline[0],  # noqa: F821 LoadImageFromFile
    dict(type='mmdet.Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='TokenizeXDecoderText', keys=dict(captions='all_caption'),
         context_length=_base_.context_length),  # noqa: F821
    _base_.test_pipeline[2],  # noqa: F821 pack
]
train_dataset = dict(
    data_root=data_root,
    ann_file='annotations/captions_train2017.json',
    data_prefix=dict(img_path='train2017/'),
    pipeline=train_pipeline)
val_dataset = dict(
    data_root=data_root,
    ann_file='annotations/captions_val2017.json',
    data_prefix=dict(img_path='val2017/'),
    pipeline=test_pipeline)
train_dataloader = dict(batch_size=16, num_workers=2, dataset=train_dataset)
val_dataloader = dict(batch_size=8, num_workers=2, dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CaptionMetric', ann_file=data_root + 'annotations/captions_val2017.json'),
    dict(type='RetrievalMetric', topk=(1, 5, 10)),
]
test_evaluator = val_evaluator
