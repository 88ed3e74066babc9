# PASCAL VOC 2012 val as "VOC-C" for zero-shot semantic segmentation (Peekaboo protocol).
#
# The paper evaluates on "Pascal VOC-C", a modified VOC whose construction is not published.
# Ours (documented in configs/peekaboo/README.md): every one of the 1449 images of
# ImageSets/Segmentation/val.txt, image and label cropped to their centred square (side = the
# short side); the image is then resized to 512 x 512 for the model, the label stays at the
# crop's native resolution, the prediction is returned at that resolution (the crop's size is
# the sample's `ori_shape`) and scored by mmseg's IoUMetric over the 21 classes, 255 ignored.
_base_ = ['./peekaboo_protocol.py']
dataset_type = 'mmseg.PascalVOCDataset'
data_root = 'data/VOCdevkit/VOC2012'
test_pipeline = [
    _base_.test_pipeline[0],  # noqa: F821 (mmengine base variable) LoadImageFromFile
    dict(type='mmseg.LoadAnnotations'),
    _base_.test_pipeline[1],  # noqa: F821 CenterCropSquare
    dict(
        _base_.test_pipeline[2],  # noqa: F821 PackSegInputs
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'scale_factor',
                   'crop_bbox', 'reduce_zero_label')),
]
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmseg.IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
