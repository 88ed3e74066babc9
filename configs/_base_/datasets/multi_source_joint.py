# The loader of X-Decoder's joint training, as the paper pre-trains: panoptic segmentation +
# referring segmentation + image-caption pairs in the same run, each source with its own batch
# size and resolution. 'joint': every iteration holds one batch of every source (samples ordered
# by source; the model groups them by `task`); one epoch is one pass over the panoptic source,
# the other sources cycle. 'round_robin' alternates single-source batches instead (one epoch =
# one pass over every source). Samples carry metainfo `source` (panoptic / referring / caption)
# and `task`. Not used on its own: xdecoder_coco_joint.py and xdecoder_shapesworld_joint.py list
# it beside their panoptic base and fill in the batch sizes and the three datasets' files.
multi_source_loader = dict(
    persistent_workers=True,
    sampler=dict(type='MultiSourceSampler', shuffle=True),
    batch_sampler=dict(type='MultiSourceBatchSampler', mode='joint', epoch_source='panoptic'),
    dataset=dict(
        type='MultiSourceDataset',
        tasks=dict(panoptic='panoptic', referring='referring', caption='caption')))
# the referring source: one sample per training image with every expression of every referred
# object (mmdet's 'random' mode would draw one expression per object once, when listed)
referring_source = dict(
    type='mmdet.RefCocoDataset',
    data_prefix=dict(img_path='train2014/'),
    split='train',
    text_mode='original')
# the image-text source: one sample per caption
caption_source = dict(type='CocoCaptionDataset', sample_per='caption')
