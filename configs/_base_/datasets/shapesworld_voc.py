# ShapesWorld semantic segmentation in the PASCAL VOC 2012 layout. Generate it with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
# The files are exactly VOC's (JPEGImages, palette PNGs in SegmentationClass, split lists in
# ImageSets/Segmentation), so mmseg's PascalVOCDataset reads them, but it fixes VOC's 21 class
# names in its METAINFO and mmseg only accepts a subset of those as custom classes: the stock
# BaseSegDataset with our six names reads the same files. 0 = background (sky and ground),
# 1..5 = the things, 255 = a 1-pixel void band around each object (ignored by loss and metric).
# The ADE-layout config's pipelines and loaders, on the VOC files.
_base_ = ['./shapesworld_ade.py']
dataset_type = 'mmseg.BaseSegDataset'
data_root = 'data/shapesworld/voc/VOCdevkit/VOC2012'
metainfo = dict(
    classes=('background', 'circle', 'square', 'triangle', 'star', 'person'),
    # the first six entries of the VOC colour map, as stored in the label PNGs
    palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128]])
voc_layout = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.jpg',
    seg_map_suffix='.png',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'))
train_dataloader = dict(dataset=dict(voc_layout, ann_file='ImageSets/Segmentation/train.txt'))
val_dataloader = dict(dataset=dict(voc_layout, ann_file='ImageSets/Segmentation/val.txt'))
test_dataloader = val_dataloader
