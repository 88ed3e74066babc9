# Conceptual Captions 3M / 12M and YFCC14M image-caption pairs as webdataset shards (the
# img2dataset output layout: <key>.jpg + <key>.txt [+ <key>.json] per sample in plain tars).
# Convert your own image-caption list with tools/dataset_converters/images_to_shards.py.
#
# Each dataset below reads the shards named by a glob; GroupViT's recipe trains on the
# concatenation GCC3M + GCC12M + YFCC14M at 224 px (see configs of the GroupViT models).
# Indexing millions of samples takes a while: the index caches make later starts fast.
data_root = 'data/image_text'
img_size = 224
context_length = 77
num_nouns = 3
train_pipeline = [
    dict(type='LoadImageFromShard'),
    # Inception-style random resized crop to 224, as in the recipe
    dict(type='RandomResizedCropImage', size=img_size, scale=(0.08, 1.0),
         interpolation='bicubic'),
    # colour augmentation (the recipe's RandAugment is approximated by photometric jitter;
    # no horizontal flip, which would contradict captions mentioning left / right)
    dict(type='mmseg.PhotoMetricDistortion'),
    dict(type='ExtractNouns', num_nouns=num_nouns),
    dict(type='PromptNouns'),
    dict(type='TokenizeText', context_length=context_length, pad_token='zero'),
    dict(type='PackImageTextInputs'),
]
gcc3m = dict(
    type='ImageTextShardDataset',
    data_root=f'{data_root}/gcc3m',
    shards='gcc-train-*.tar',
    index_cache='index_cache.json',
    pipeline=train_pipeline)
gcc12m = dict(
    type='ImageTextShardDataset',
    data_root=f'{data_root}/gcc12m',
    shards='cc-*.tar',
    index_cache='index_cache.json',
    pipeline=train_pipeline)
yfcc14m = dict(
    type='ImageTextShardDataset',
    data_root=f'{data_root}/yfcc14m',
    shards='yfcc14m-*.tar',
    index_cache='index_cache.json',
    pipeline=train_pipeline)
train_dataloader = dict(
    batch_size=256,  # per GPU; the recipe uses 16 GPUs (total 4096)
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='ConcatDataset', datasets=[gcc3m, gcc12m, yfcc14m]))
