# The evaluation protocol of Peekaboo's zero-shot benchmarks (VOC-C, RefCOCO-C; see
# configs/peekaboo/README.md): one sample at a time, image and target cropped to their centred
# square, the image resized to img_size x img_size for the model while the target stays at the
# crop's native resolution (the crop's size is the sample's `ori_shape`). voc12_peekaboo.py and
# refcoco_peekaboo.py inherit it: they add the dataset, its annotation loader (after the image
# loader) and the meta keys their metric reads.
img_size = 512
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CenterCropSquare', as_original=True, size=img_size),
    dict(type='mmseg.PackSegInputs'),
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
