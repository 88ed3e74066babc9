# X-Decoder referring segmentation data on ShapesWorld in the RefCOCO (UNC) layout; a shrunk copy
# of xdecoder_refcocog.py. Generate the data with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#
# Training (stock mmdet.RefCocoDataset, text_mode='original'): one sample per image with every
# expression of every referred object (mmdet's 'random' mode would draw one expression per
# object once, when the dataset is listed). Packed: gt_instances.masks (P phrases x H x W,
# aligned with metainfo `text`, a list of P strings; gt_instances.labels all 0), grd_tokens
# (P, 77) and grd_mask (P, 77) (CLIP BPE ids and their validity), metainfo task='referring'.
# Evaluation (RefCocoSegDataset): one sample per expression, gt_sem_seg (1 on the referred
# object), metainfo `text` (the expression); the model returns pred_sem_seg at the original size.
data_root = 'data/shapesworld/refcoco/'
img_size = 96
context_length = 77
backend_args = None

# No flip: expressions such as "the star on the left" would become false.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(
        type='mmdet.LoadAnnotations',
        with_bbox=False,
        with_label=False,
        with_mask=True,
        backend_args=backend_args),
    dict(
        type='mmdet.RandomResize',
        scale=(img_size, img_size),
        ratio_range=(0.75, 1.25),
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
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmseg.Resize', scale=(img_size, img_size), keep_ratio=True),
    # the referred mask is decoded at the original size: the metric compares at that size
    dict(type='LoadReferringAnnotations'),
    dict(
        type='mmseg.PackSegInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text',
                   'sent_id')),
]
train_dataset = dict(
    type='mmdet.RefCocoDataset',
    data_root=data_root,
    ann_file='refcoco/instances.json',
    split_file='refcoco/refs(unc).p',
    data_prefix=dict(img_path='train2014/'),
    split='train',
    text_mode='original',
    pipeline=train_pipeline)
val_dataset = dict(
    type='RefCocoSegDataset',
    data_root=data_root,
    ann_file='refcoco/instances.json',
    split_file='refcoco/refs(unc).p',
    data_prefix=dict(img_path='train2014/'),
    split='val',
    test_mode=True,
    pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=train_dataset)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type='ReferringSegMetric')
test_evaluator = val_evaluator
