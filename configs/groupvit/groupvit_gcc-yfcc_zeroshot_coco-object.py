# Zero-shot segmentation on COCO-Object val2017 (background + the 80 COCO things; background
# threshold 0.95). Build the masks first:
#   python tools/dataset_converters/coco_object.py data/coco --splits val2017
#   python tools/test.py configs/groupvit/groupvit_gcc-yfcc_zeroshot_coco-object.py <.pth>
_base_ = ['./groupvit_gcc-yfcc_zeroshot_voc.py']
classes = ('background', 'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train',
           'truck', 'boat', 'traffic light', 'fire hydrant', 'stop sign', 'parking meter',
           'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra',
           'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
           'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
           'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon',
           'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog',
           'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table',
           'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave',
           'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
           'teddy bear', 'hair drier', 'toothbrush')
model = dict(class_names=classes, rename=dict(), bg_thresh=0.95)
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmseg.BaseSegDataset',
        metainfo=dict(classes=classes),
        data_root='data/coco',
        data_prefix=dict(img_path='val2017', seg_map_path='annotations/coco_object/val2017'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        pipeline={{_base_.test_pipeline}}))
