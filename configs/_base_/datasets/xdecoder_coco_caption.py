# X-Decoder image-text data: COCO Captions (Karpathy-style splits written as COCO captions
# files) at 224 px, for captioning training and BLEU-4 / CIDEr-D evaluation. Layout:
#   data/coco/train2014/, val2014/
#   data/coco/annotations/captions_karpathy_{train,test}.json (COCO captions format:
#   images [{id, file_name}], annotations [{image_id, caption}]; file_name relative to
#   data/coco/, e.g. 'val2014/COCO_val2014_000000391895.jpg', since the Karpathy train split
#   also takes images from val2014)
# Packed samples as in xdecoder_shapesworld_caption.py. Image-text pre-training sets
# (CC3M, SBU, VG) in the same format use this config with another ann_file.
dataset_type = 'CocoCaptionDataset'
data_root = 'data/coco/'
img_size = 224
context_length = 77
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='RandomResizedCropImage', size=img_size, scale=(0.5, 1.0)),
    dict(type='TokenizeXDecoderText', keys=dict(text='caption'), context_length=context_length),
    dict(
        type='PackXDecoderInputs',
        task='caption',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'text')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(
        type='PackXDecoderInputs',
        task='caption',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'captions')),
]
train_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/captions_karpathy_train.json',
    data_prefix=dict(img_path=''),
    sample_per='caption',
    pipeline=train_pipeline)
val_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='annotations/captions_karpathy_test.json',
    data_prefix=dict(img_path=''),
    sample_per='image',
    test_mode=True,
    pipeline=test_pipeline)
# 1024 image-text pairs per iteration over 8 GPUs in the paper's recipe
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=train_dataset)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CaptionMetric', ann_file=data_root + 'annotations/captions_karpathy_test.json')
test_evaluator = val_evaluator
