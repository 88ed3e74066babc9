# X-Decoder pre-training data as in the paper: COCO panoptic + RefCOCOg + image-text pairs in
# the same run (the loader and what 'joint' means: multi_source_joint.py), per GPU (8 GPUs):
# 4 panoptic and 4 referring images at 1024 px LSJ, 128 image-text pairs at 224 px; the paper's
# 32 and 1024 in total. Validation: COCO panoptic (xdecoder_coco_panoptic.py); referring and
# captioning / retrieval use xdecoder_refcocog.py, xdecoder_coco_caption.py and
# xdecoder_coco_retrieval.py with tools/test.py.
_base_ = ['./xdecoder_coco_panoptic.py', './multi_source_joint.py']

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
    _base_.multi_source_loader,  # noqa: F821 (mmengine base variable)
    _delete_=True,
    batch_size=4,
    num_workers=8,
    batch_sampler=dict(
        _base_.multi_source_loader.batch_sampler,  # noqa: F821
        batch_sizes=dict(panoptic=4, referring=4, caption=128)),
    dataset=dict(
        _base_.multi_source_loader.dataset,  # noqa: F821
        datasets=dict(
            panoptic={{_base_.train_dataset}},
            referring=dict(
                _base_.referring_source,  # noqa: F821
                data_root='data/refcoco/',
                ann_file='refcocog/instances.json',
                split_file='refcocog/refs(umd).p',
                pipeline=referring_train_pipeline),
            caption=dict(
                _base_.caption_source,  # noqa: F821
                data_root='data/coco/',
                ann_file='annotations/captions_karpathy_train.json',
                data_prefix=dict(img_path=''),
                pipeline=caption_train_pipeline))))
