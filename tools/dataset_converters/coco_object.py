# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Build COCO-Object semantic masks (background + the thing categories) from COCO instances.

COCO-Object (GroupViT's third zero-shot benchmark) labels every pixel with 0 (background) or
``1 + index`` of the category of the instance covering it, the categories being those of the
instances json in ascending id order (the 80 COCO things: 1..80). Instances are painted from the
largest to the smallest so that small objects in front of large ones stay visible; crowd
regions are painted 255 (ignored by the metric) unless a non-crowd instance covers them.

    python tools/dataset_converters/coco_object.py data/coco \
        --splits val2017 [--out-dir data/coco/annotations/coco_object]

writes ``<out-dir>/<split>/<image file stem>.png`` (single-channel uint8) and
``<out-dir>/classes.txt`` (background + the category names), the layout
``configs/groupvit/groupvit_gcc-yfcc_zeroshot_coco-object.py`` reads.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

IGNORE_INDEX = 255


def category_labels(categories: Sequence[dict]) -> Dict[int, int]:
    """COCO category id -> contiguous label (1-based; 0 is background)."""
    return {cat['id']: i + 1 for i, cat in enumerate(sorted(categories, key=lambda c: c['id']))}


def object_mask(coco, image_id: int, labels: Dict[int, int]) -> np.ndarray:
    """The COCO-Object label map ``[H, W]`` (uint8) of one image of a ``pycocotools.COCO``."""
    info = coco.imgs[image_id]
    mask = np.zeros((info['height'], info['width']), dtype=np.uint8)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id], iscrowd=None))
    anns = [a for a in anns if a['category_id'] in labels]
    crowd = np.zeros(mask.shape, dtype=bool)
    for ann in sorted(anns, key=lambda a: -a.get('area', 0.)):
        region = coco.annToMask(ann).astype(bool)
        if ann.get('iscrowd', 0):
            crowd |= region
        else:
            mask[region] = labels[ann['category_id']]
    mask[crowd & (mask == 0)] = IGNORE_INDEX
    return mask


def convert_split(ann_file: str, out_dir: str) -> int:
    """Write the masks of every image of ``ann_file`` to ``out_dir``; returns their count."""
    from pycocotools.coco import COCO
    coco = COCO(ann_file)
    labels = category_labels(coco.dataset['categories'])
    if len(labels) >= IGNORE_INDEX:
        raise ValueError(f'{len(labels)} categories do not fit uint8 labels below 255')
    os.makedirs(out_dir, exist_ok=True)
    for image_id in sorted(coco.imgs):
        stem = osp.splitext(coco.imgs[image_id]['file_name'])[0]
        Image.fromarray(object_mask(coco, image_id, labels)).save(osp.join(out_dir, f'{stem}.png'))
    return len(coco.imgs)


def class_names(ann_file: str) -> List[str]:
    with open(ann_file) as f:
        cats = json.load(f)['categories']
    return ['background'] + [c['name'] for c in sorted(cats, key=lambda c: c['id'])]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='COCO instances -> COCO-Object masks')
    parser.add_argument('coco_root', help='folder with annotations/instances_<split>.json')
    parser.add_argument('--splits', nargs='+', default=['val2017'])
    parser.add_argument('--out-dir', help='default: <coco_root>/annotations/coco_object')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    out_root = args.out_dir or osp.join(args.coco_root, 'annotations', 'coco_object')
    names = None
    for split in args.splits:
        ann_file = osp.join(args.coco_root, 'annotations', f'instances_{split}.json')
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'{ann_file} does not exist')
        count = convert_split(ann_file, osp.join(out_root, split))
        split_names = class_names(ann_file)
        if names is not None and names != split_names:
            raise ValueError(f'{split} has other categories than the previous splits')
        names = split_names
        print(f'{split}: {count} masks -> {osp.join(out_root, split)}')
    with open(osp.join(out_root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(names) + '\n')


if __name__ == '__main__':
    main()
