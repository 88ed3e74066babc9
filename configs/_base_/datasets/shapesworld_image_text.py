# ShapesWorld image-caption pairs as webdataset shards, for GroupViT-style contrastive training.
# Generate them with: python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# (writes data/shapesworld/shards/{train,val}-%06d.tar and {train,val}.json).
#
# A packed sample is dict(inputs=uint8 (3, 96, 96) BGR tensor, data_samples=BaseDataElement with
# text_ids (77,), multi_label_ids (3, 77) and metainfo img_path, text, nouns, multi_label_texts);
# the model's data_preprocessor normalises (CLIP mean/std, bgr_to_rgb=True).
_base_ = ['./cc_image_text.py']
dataset_type = 'ImageTextShardDataset'
data_root = 'data/shapesworld/shards'
img_size = 96
train_pipeline = [
    _base_.train_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromShard
    # random-resized-crop style: upscale by 1-1.5x (keeping the ratio), then crop back to 96 px
    dict(type='RandomResize', scale=(img_size, img_size), ratio_range=(1.0, 1.5),
         keep_ratio=True),
    dict(type='mmseg.RandomCrop', crop_size=(img_size, img_size)),
    # no flip: the captions say "left of" / "right of"
    dict(type='mmseg.PhotoMetricDistortion', hue_delta=9),  # colour jitter
    *_base_.train_pipeline[3:],  # noqa: F821 K nouns per caption, prompts, tokens, pack
]
train_dataloader = dict(
    _delete_=True,  # one set of shards, small batches: no concatenation, no pinned memory
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=_base_.train_dataloader.sampler,  # noqa: F821
    collate_fn=_base_.train_dataloader.collate_fn,  # noqa: F821
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        shards='train.json',
        pipeline=train_pipeline))
