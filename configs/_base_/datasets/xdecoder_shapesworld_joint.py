# X-Decoder joint training data on ShapesWorld, as the paper pre-trains (the loader, its real
# referring and image-text sources and what 'joint' means: multi_source_joint.py): panoptic
# segmentation (xdecoder_shapesworld_panoptic.py: 96 px LSJ crops) + referring segmentation
# (96 px) + image-caption pairs (64 px) in the same run. The real sources with ShapesWorld's
# roots, files and sizes; the steps that differ are those of xdecoder_shapesworld_refcoco.py
# (uint8 images) and xdecoder_shapesworld_caption.py (a fixed 64 px resize and colour jitter
# instead of a random crop: the captions say "left of" and name every object).
# Validation is the panoptic split of the base; the referring and caption splits are
# available as `referring_val_dataloader` / `caption_val_dataloader` (and evaluators) for
# tools/test.py with --cfg-options or a derived config.
_base_ = ['./xdecoder_shapesworld_panoptic.py', './multi_source_joint.py']

referring_root = 'data/shapesworld/refcoco/'
caption_root = 'data/shapesworld/coco/'

referring_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    _base_.referring_train_pipeline[1],  # noqa: F821 (mmengine base variable) masks
    dict(_base_.referring_train_pipeline[2],  # noqa: F821 mmdet.RandomResize
         scale=(96, 96), ratio_range=(0.75, 1.25)),
    *_base_.referring_train_pipeline[3:],  # noqa: F821 tokenize the expressions, pack
]
caption_train_pipeline = [
    _base_.caption_train_pipeline[0],  # noqa: F821 LoadImageFromFile
    dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
    dict(type='mmseg.PhotoMetricDistortion', hue_delta=9),
    _base_.caption_train_pipeline[2],  # noqa: F821 tokenize the caption
    dict(_base_.caption_train_pipeline[3],  # noqa: F821 pack (with the resize's scale_factor)
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
train_dataloader = dict(
    _base_.multi_source_loader,  # noqa: F821
    _delete_=True,
    num_workers=2,
    batch_sampler=dict(
        _base_.multi_source_loader.batch_sampler,  # noqa: F821
        batch_sizes=dict(panoptic=4, referring=4, caption=8)),
    dataset=dict(
        _base_.multi_source_loader.dataset,  # noqa: F821
        datasets=dict(
            panoptic={{_base_.train_dataset}},
            # RefCOCO (UNC split) instead of RefCOCOg (UMD)
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
    _base_.val_dataloader,  # noqa: F821
    dataset=dict(
        type='RefCocoSegDataset',
        data_root=referring_root,
        ann_file='refcoco/instances.json',
        split_file='refcoco/refs(unc).p',
        data_prefix=dict(img_path='train2014/'),
        split='val',
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile', backend_args=None),
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
            dict(type='LoadImageFromFile', backend_args=None),
            dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=False),
            dict(type='TokenizeXDecoderText', keys=dict(captions='all_caption'),
                 context_length=_base_.context_length),  # noqa: F821
            dict(type='PackXDecoderInputs', task='caption',
                 meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                            'captions')),
        ]))
caption_val_evaluator = [
    dict(type='CaptionMetric', ann_file=caption_root + 'annotations/captions_val2017.json'),
    dict(type='RetrievalMetric', topk=(1, 5, 10)),
]
