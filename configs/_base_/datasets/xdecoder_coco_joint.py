# X-Decoder pre-training data as in the paper: COCO panoptic + RefCOCOg + image-text pairs in
# the same run, each source with its own batch size and resolution (per GPU, 8 GPUs: 4 panoptic
# and 4 referring images at 1024 px LSJ, 128 image-text pairs at 224 px; the paper's 32 and
# 1024 in total). Every iteration holds one batch of every source ('joint'; the model groups the
# samples by `task`); one epoch is one pass over COCO panoptic, the other sources cycle
# ('round_robin' alternates single-source batches instead). Validation: COCO panoptic
# (xdecoder_coco_panoptic.py);
# referring and captioning / retrieval use xdecoder_refcocog.py, xdecoder_coco_caption.py and
# xdecoder_coco_retrieval.py with tools/test.py.
_base_ = ['./xdecoder_coco_panoptic.py']

backend_args = None
context_length = 77

referring_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=False, with_label=False, with_mask=True),
    dict(type='mmdet.RandomResize', scale=(1024, 1024), ratio_range=(0.8, 1.2),
         keep_ratio=True, resize_type='mmdet.Resize'),
    dict(type='TokenizeXDecoderText', keys=dict(text='grd'), context_length=context_length,
         required=('text', )),
    dict(type='PackXDecoderInputs', task='referring',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
caption_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='RandomResizedCropImage', size=224, scale=(0.5, 1.0)),
    dict(type='TokenizeXDecoderText', keys=dict(text='caption'), context_length=context_length),
    dict(type='PackXDecoderInputs', task='caption',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'text')),
]

train_dataloader = dict(
    _delete_=True,
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='MultiSourceSampler', shuffle=True),
    batch_sampler=dict(
        type='MultiSourceBatchSampler',
        mode='joint',
        epoch_source='panoptic',
        batch_sizes=dict(panoptic=4, referring=4, caption=128)),
    dataset=dict(
        type='MultiSourceDataset',
        tasks=dict(panoptic='panoptic', referring='referring', caption='caption'),
        datasets=dict(
            panoptic={{_base_.train_dataset}},
            referring=dict(
                type='mmdet.RefCocoDataset',
                data_root='data/refcoco/',
                ann_file='refcocog/instances.json',
                split_file='refcocog/refs(umd).p',
                data_prefix=dict(img_path='train2014/'),
                split='train',
                text_mode='original',
                pipeline=referring_train_pipeline),
            caption=dict(
                type='CocoCaptionDataset',
                data_root='data/coco/',
                ann_file='annotations/captions_karpathy_train.json',
                data_prefix=dict(img_path=''),
                sample_per='caption',
                pipeline=caption_train_pipeline))))
