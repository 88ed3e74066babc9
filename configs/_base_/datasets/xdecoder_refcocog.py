# X-Decoder referring segmentation data: RefCOCOg (UMD split) on COCO train2014 images.
# Layout (the mmdet RefCOCO layout):
#   data/refcoco/train2014/
#   data/refcoco/refcocog/instances.json, data/refcoco/refcocog/refs(umd).p
# Training: stock mmdet.RefCocoDataset, one sample per image with every expression of every
# referred object (1024 px, no flip: "left" / "right" would become false). Evaluation:
# RefCocoSegDataset, one sample per expression, cIoU / mIoU (ReferringSegMetric).
_base_ = ['./default_dataloaders.py']
data_root = 'data/refcoco/'
image_size = (1024, 1024)
context_length = 77
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(
        type='mmdet.LoadAnnotations',
        with_bbox=False,
        with_label=False,
        with_mask=True,
        backend_args=backend_args),
    dict(
        type='mmdet.RandomResize',
        scale=image_size,
        ratio_range=(0.8, 1.2),
        keep_ratio=True,
        resize_type='mmdet.Resize'),
    dict(type='TokenizeXDecoderText', keys=dict(text='grd'), context_length=context_length,
         required=('text', )),
    dict(
        type='PackXDecoderInputs',
        task='referring',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='mmseg.Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadReferringAnnotations'),
    dict(
        type='mmseg.PackSegInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
                   'sent_id')),
]
train_dataset = dict(
    type='mmdet.RefCocoDataset',
    data_root=data_root,
    ann_file='refcocog/instances.json',
    split_file='refcocog/refs(umd).p',
    data_prefix=dict(img_path='train2014/'),
    split='train',
    text_mode='original',
    pipeline=train_pipeline)
val_dataset = dict(
    type='RefCocoSegDataset',
    data_root=data_root,
    ann_file='refcocog/instances.json',
    split_file='refcocog/refs(umd).p',
    data_prefix=dict(img_path='train2014/'),
    split='val',
    test_mode=True,
    pipeline=test_pipeline)
train_dataloader = dict(batch_size=4, num_workers=4, dataset=train_dataset)
val_dataloader = dict(dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type='ReferringSegMetric')
test_evaluator = val_evaluator
