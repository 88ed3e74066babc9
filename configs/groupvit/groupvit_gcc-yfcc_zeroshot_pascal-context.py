# Zero-shot segmentation on PASCAL Context val, 60 classes (background + 59), as the release
# evaluates it (mmseg.PascalContextDataset; background threshold 0.35).
#   python tools/test.py configs/groupvit/groupvit_gcc-yfcc_zeroshot_pascal-context.py <.pth>
# Data: mmseg's PASCAL Context preparation (tools/dataset_converters/pascal_context.py of
# mmsegmentation) -> data/VOCdevkit/VOC2010/SegmentationClassContext.
_base_ = ['./groupvit_gcc-yfcc_zeroshot_voc.py']
classes = ('background', 'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird',
           'boat', 'book', 'bottle', 'building', 'bus', 'cabinet', 'car', 'cat', 'ceiling',
           'chair', 'cloth', 'computer', 'cow', 'cup', 'curtain', 'dog', 'door', 'fence', 'floor',
           'flower', 'food', 'grass', 'ground', 'horse', 'keyboard', 'light', 'motorbike',
           'mountain', 'mouse', 'person', 'plate', 'platform', 'pottedplant', 'road', 'rock',
           'sheep', 'shelves', 'sidewalk', 'sign', 'sky', 'snow', 'sofa', 'table', 'track',
           'train', 'tree', 'truck', 'tvmonitor', 'wall', 'water', 'window', 'wood')
model = dict(class_names=classes, bg_thresh=0.35)
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmseg.PascalContextDataset',
        data_root='data/VOCdevkit/VOC2010',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
        ann_file='ImageSets/SegmentationContext/val.txt',
        pipeline={{_base_.test_pipeline}}))
