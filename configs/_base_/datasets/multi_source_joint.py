# The loader of X-Decoder's joint training and its two non-panoptic sources, as the paper
# pre-trains: panoptic segmentation + referring segmentation + image-caption pairs in the same
# run, each source with its own batch size and resolution. 'joint': every iteration holds one
# batch of every source (samples ordered by source; the model groups them by `task`); one epoch
# is one pass over the panoptic source, the other sources cycle. 'round_robin' alternates
# single-source batches instead (one epoch = one pass over every source). Samples carry metainfo
# `source` (panoptic / referring / caption) and `task`.
# Per GPU (8 GPUs): 4 panoptic and 4 referring images, 128 image-text pairs; the paper's 32 and
# 1024 in total. The sources' pipelines are those of xdecoder_refcocog.py (1024 px, no flip) and
# xdecoder_coco_caption.py (224 px). Not used on its own: a joint dataset base lists it beside
# its panoptic base, which gives the panoptic source and the validation data
# (xdecoder_coco_joint.py: COCO; xdecoder_shapesworld_joint.py: ShapesWorld, sizes overridden).
context_length = 77

referring_train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, backend_args=None),
    dict(type='mmdet.LoadAnnotations', with_bbox=False, with_label=False, with_mask=True),
    dict(type='mmdet.RandomResize', scale=(1024, 1024), ratio_range=(0.8, 1.2),
         keep_ratio=True, resize_type='mmdet.Resize'),
    dict(type='TokenizeXDecoderText', keys=dict(text='grd'), context_length=context_length,
         required=('text', )),
    dict(type='PackXDecoderInputs', task='referring',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'text')),
]
caption_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='RandomResizedCropImage', size=224, scale=(0.5, 1.0)),
    dict(type='TokenizeXDecoderText', keys=dict(text='caption'), context_length=context_length),
    dict(type='PackXDecoderInputs', task='caption',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'text')),
]
# RefCOCOg (UMD split): one sample per training image with every expression of every referred
# object (mmdet's 'random' mode would draw one expression per object once, when listed)
referring_source = dict(
    type='mmdet.RefCocoDataset', data_root='data/refcoco/', ann_file='refcocog/instances.json',
    split_file='refcocog/refs(umd).p', data_prefix=dict(img_path='train2014/'), split='train',
    text_mode='original', pipeline=referring_train_pipeline)
# COCO Captions (Karpathy train split): one sample per caption
caption_source = dict(
    type='CocoCaptionDataset', data_root='data/coco/',
    ann_file='annotations/captions_karpathy_train.json', data_prefix=dict(img_path=''),
    sample_per='caption', pipeline=caption_train_pipeline)
# the joint loader without its panoptic source, which the joint dataset bases add
multi_source_loader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='MultiSourceSampler', shuffle=True),
    batch_sampler=dict(type='MultiSourceBatchSampler', mode='joint', epoch_source='panoptic',
                       batch_sizes=dict(panoptic=4, referring=4, caption=128)),
    dataset=dict(
        type='MultiSourceDataset',
        tasks=dict(panoptic='panoptic', referring='referring', caption='caption'),
        datasets=dict(referring=referring_source, caption=caption_source)))
