# Copyright (c) mmgen_vision contributors. All rights reserved.
"""COCO panoptic annotations -> semantic label PNGs (things and stuff, contiguous labels).

    python tools/dataset_converters/coco_panoptic_to_semseg.py \\
        data/coco/annotations/panoptic_val2017.json data/coco/annotations/panoptic_val2017 \\
        data/coco/annotations/panoptic_semseg_val2017 [--nproc 8]

Label ``i`` is the ``i``-th entry of the json's ``categories`` list (COCO panoptic: 133
classes, 80 things then 53 stuff); unlabelled pixels and crowd regions are 255. This is the
semantic output space that methods training semantic segmentation on COCO use (Painter's
COCO-panoptic semantic codec, X-Decoder's semantic evaluation).
"""
import argparse
import json
import os
import os.path as osp
import sys
from functools import partial
from multiprocessing import Pool
from typing import Dict

import numpy as np
from PIL import Image

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmgen_vision.utils.image_io import read_image  # noqa: E402
from mmgen_vision.utils.panoptic import rgb_to_id  # noqa: E402

IGNORE_INDEX = 255


def convert_one(annotation: dict, panoptic_dir: str, out_dir: str,
                label_of_category: Dict[int, int], ignore_crowd: bool = True) -> str:
    """Write the semantic PNG of one image's panoptic annotation; return its path."""
    src = osp.join(panoptic_dir, annotation['file_name'])
    if not osp.isfile(src):
        raise FileNotFoundError(f'panoptic PNG {src} of image {annotation["image_id"]} is missing')
    ids = rgb_to_id(read_image(src, channel_order='rgb'))
    semantic = np.full(ids.shape, IGNORE_INDEX, dtype=np.uint8)
    for segment in annotation['segments_info']:
        if ignore_crowd and segment.get('iscrowd', 0):
            continue
        if segment['category_id'] not in label_of_category:
            raise KeyError(f'segment {segment["id"]} in {src} has category '
                           f'{segment["category_id"]}, which the json does not declare')
        semantic[ids == segment['id']] = label_of_category[segment['category_id']]
    dst = osp.join(out_dir, osp.splitext(annotation['file_name'])[0] + '.png')
    Image.fromarray(semantic).save(dst)
    return dst


def convert_panoptic_to_semseg(panoptic_json: str, panoptic_dir: str, out_dir: str,
                               nproc: int = 1, ignore_crowd: bool = True) -> int:
    """Convert every annotation of ``panoptic_json``; return the number of PNGs written."""
    with open(panoptic_json, encoding='utf-8') as f:
        data = json.load(f)
    if len(data['categories']) > IGNORE_INDEX:
        raise ValueError(f'{len(data["categories"])} categories do not fit uint8 labels')
    label_of_category = {cat['id']: i for i, cat in enumerate(data['categories'])}
    os.makedirs(out_dir, exist_ok=True)
    worker = partial(convert_one, panoptic_dir=panoptic_dir, out_dir=out_dir,
                     label_of_category=label_of_category, ignore_crowd=ignore_crowd)
    if nproc > 1:
        with Pool(nproc) as pool:
            written = pool.map(worker, data['annotations'], chunksize=16)
    else:
        written = [worker(annotation) for annotation in data['annotations']]
    return len(written)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('panoptic_json', help='panoptic_{train,val}2017.json')
    parser.add_argument('panoptic_dir', help='folder of the panoptic RGB PNGs')
    parser.add_argument('out_dir', help='where the semantic label PNGs go')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    parser.add_argument('--keep-crowd', action='store_true',
                        help='label crowd segments with their class instead of 255')
    args = parser.parse_args()
    count = convert_panoptic_to_semseg(args.panoptic_json, args.panoptic_dir, args.out_dir,
                                       args.nproc, ignore_crowd=not args.keep_crowd)
    print(f'wrote {count} semantic PNGs to {args.out_dir}')


if __name__ == '__main__':
    main()
