# X-Decoder joint training data on ShapesWorld, as the paper pre-trains (the loader and what
# 'joint' means: multi_source_joint.py): panoptic segmentation + referring segmentation +
# image-caption pairs in the same run, at 96 px LSJ crops, 96 px referring images and 64 px
# image-text.
# Validation is the panoptic split of the base; the referring and caption splits are
# available as `referring_val_dataloader` / `caption_val_dataloader` (and evaluators) for
# tools/test.py with --cfg-options or a derived config.
_base_ = ['./xdecoder_shapesworld_panoptic.py', './multi_source_joint.py']

backend_args = None
context_length = 77
referring_root = 'data/shapesworld/refcoco/'
caption_root = 'data/shapesworld/coco/'

referring_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=False, with_label=False, with_mask=True),
    dict(type='mmdet.RandomResize', scale=(96, 96), ratio_range=(0.75, 1.25), keep_ratio=True,
         resize_type='mmdet.Resize'),
    dict(type='TokenizeXDecoderText', keys=dict(text='grd'), context_length=context_length,
         required=('text', )),
    dict(type='PackXDecoderInputs', task='referring',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
caption_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
    dict(type='mmseg.PhotoMetricDistortion', hue_delta=9),
    dict(type='TokenizeXDecoderText', keys=dict(text='caption'), context_length=context_length),
    dict(type='PackXDecoderInputs', task='caption',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]

train_dataloader = dict(
    _base_.multi_source_loader,  # noqa: F821 (mmengine base variable)
    _delete_=True,
    batch_size=4,
    num_workers=2,
    batch_sampler=dict(
        _base_.multi_source_loader.batch_sampler,  # noqa: F821
        batch_sizes=dict(panoptic=4, referring=4, caption=8)),
    dataset=dict(
        _base_.multi_source_loader.dataset,  # noqa: F821
        datasets=dict(
            panoptic={{_base_.train_dataset}},
            referring=dict(
                _base_.referring_source,  # noqa: F821
                data_root=referring_root,
                ann_file='refcoco/instances.json',
                split_file='refcoco/refs(unc).p',
                pipeline=referring_train_pipeline),
            caption=dict(
                _base_.caption_source,  # noqa: F821
                data_root=caption_root,
                ann_file='annotations/captions_train2017.json',
                data_prefix=dict(img_path='train2017/'),
                pipeline=caption_train_pipeline))))

# the panoptic validation loader's settings, on the referring and caption splits
referring_val_dataloader = dict(
    _base_.val_dataloader,  # noqa: F821 (mmengine base variable)
    dataset=dict(
        type='RefCocoSegDataset',
        data_root=referring_root,
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='val',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='mmseg.Resize', scale=(96, 96), keep_ratio=True),
            dict(type='LoadReferringAnnotations'),
            dict(type='mmseg.PackSegInputs',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                            'text', 'sent_id')),
        ]))
referring_val_evaluator = dict(type='ReferringSegMetric')
caption_val_dataloader = dict(
    _base_.val_dataloader,  # noqa: F821
    batch_size=8,
    dataset=dict(
        type='CocoCaptionDataset',
        data_root=caption_root,
        ann_file='annotations/captions_val2017.json',
        data_prefix=dict(img_path='val2017/'),
        sample_per='image',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
            dict(type='TokenizeXDecoderText', keys=dict(captions='all_caption'),
                 context_length=context_length),
            dict(type='PackXDecoderInputs', task='caption',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                            'captions')),
        ]))
caption_val_evaluator = [
    dict(type='CaptionMetric', ann_file=caption_root + 'annotations/captions_val2017.json'),
    dict(type='RetrievalMetric', topk=(1, 5, 10)),
]
