# X-Decoder referring segmentation data on ShapesWorld in the RefCOCO (UNC) layout:
# xdecoder_refcocog.py (inherited), shrunk. Generate the data with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
#
# Training (stock mmdet.RefCocoDataset, text_mode='original'): one sample per image with every
# expression of every referred object (mmdet's 'random' mode would draw one expression per
# object once, when the dataset is listed). Packed: gt_instances.masks (P phrases x H x W,
# aligned with metainfo `text`, a list of P strings; gt_instances.labels all 0), grd_tokens
# (P, 77) and grd_mask (P, 77) (CLIP BPE ids and their validity), metainfo task='referring'.
# Evaluation (RefCocoSegDataset): one sample per expression, gt_sem_seg (1 on the referred
# object), metainfo `text` (the expression); the model returns pred_sem_seg at the original size.
_base_ = ['./xdecoder_refcocog.py']
data_root = 'data/shapesworld/refcoco/'
img_size = 96

# The real pipelines at 96 px, on uint8 images. No flip: expressions such as "the star on the
# left" would become false.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    _base_.train_pipeline[1],  # noqa: F821 (mmengine base variable) masks of the referred objects
    dict(_base_.train_pipeline[2],  # noqa: F821 mmdet.RandomResize
         scale=(img_size, img_size), ratio_range=(0.75, 1.25)),
    *_base_.train_pipeline[3:],  # noqa: F821 tokenize the expressions, pack
]
# the referred mask is decoded at the original size: the metric compares at that size
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='mmseg.Resize', scale=(img_size, img_size), keep_ratio=True),
    *_base_.test_pipeline[2:],  # noqa: F821 LoadReferringAnnotations, pack
]
# The UNC split of the RefCOCO layout instead of RefCOCOg (UMD).
train_dataset = dict(
    data_root=data_root,
    ann_file='refcoco/instances.json',
    split_file='refcoco/refs(unc).p',
    pipeline=train_pipeline)
val_dataset = dict(
    data_root=data_root,
    ann_file='refcoco/instances.json',
    split_file='refcoco/refs(unc).p',
    pipeline=test_pipeline)
train_dataloader = dict(batch_size=8, num_workers=2, dataset=train_dataset)
val_dataloader = dict(dataset=val_dataset)
test_dataloader = val_dataloader
