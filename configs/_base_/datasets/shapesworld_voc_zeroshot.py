# ShapesWorld VOC val (background + circle, square, triangle, star, person) for zero-shot
# semantic segmentation: voc12_zeroshot.py on ShapesWorld's VOC files, read by the stock
# BaseSegDataset with the six names (see shapesworld_voc.py). Generate them with:
#   python tools/misc/generate_shapesworld.py --out-dir data/shapesworld
_base_ = ['./voc12_zeroshot.py']
test_dataloader = dict(
    num_workers=2,
    dataset=dict(
        type='mmseg.BaseSegDataset',
        data_root='data/shapesworld/voc/VOCdevkit/VOC2012',
        metainfo=dict(
            classes=('background', 'circle', 'square', 'triangle', 'star', 'person'),
            palette=[[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128],
                     [128, 0, 128]]),
        img_suffix='.jpg',
        seg_map_suffix='.png'))
