# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Karpathy's ``dataset_coco.json`` -> one COCO-captions json per split.

    python tools/dataset_converters/karpathy_to_coco_captions.py \\
        data/coco/annotations/dataset_coco.json data/coco/annotations \\
        [--restval-to train] [--prefix captions_karpathy]

The captioning and retrieval numbers of X-Decoder (and most image-text papers) use the Karpathy
splits of COCO 2014 (113k train + restval, 5k val, 5k test). Their file lists every image as
``{"filepath": "val2014", "filename": ..., "cocoid": ..., "split": "train" | "restval" |
"val" | "test", "sentences": [{"raw": ...}, ...]}``. The output is what
``mmgen_vision.datasets.CocoCaptionDataset`` reads::

    OUT_DIR/{prefix}_{split}.json  {"images": [{"id", "file_name"}],
                                    "annotations": [{"id", "image_id", "caption"}]}

``file_name`` is ``<filepath>/<filename>`` (relative to ``data/coco/``), ``id`` the COCO id;
``restval`` images join ``--restval-to`` (``train`` by default, ``none`` drops them).
Captions keep their raw text (stripped) and order; annotation ids run over all splits.
"""
import argparse
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List

SPLITS = ('train', 'val', 'test')


def convert(karpathy: dict, restval_to: str = 'train') -> Dict[str, dict]:
    """Split a parsed ``dataset_coco.json`` into COCO-captions dicts, one per split.

    Raises:
        ValueError: The file is not in Karpathy's layout (the message names the entry).
    """
    if restval_to not in SPLITS + ('none', ):
        raise ValueError(f'restval_to must be one of {SPLITS + ("none", )}, got {restval_to!r}')
    images = karpathy.get('images') if isinstance(karpathy, dict) else None
    if not isinstance(images, list):
        raise ValueError('not a Karpathy split file: no "images" list at the top level')
    out = OrderedDict((s, dict(images=[], annotations=[])) for s in SPLITS)
    ann_id = 1
    for index, image in enumerate(images):
        missing = [k for k in ('filepath', 'filename', 'cocoid', 'split', 'sentences')
                   if k not in image]
        if missing:
            raise ValueError(f'images[{index}] lacks {missing}')
        split = image['split']
        if split == 'restval':
            if restval_to == 'none':
                continue
            split = restval_to
        if split not in out:
            raise ValueError(f'images[{index}] ({image["filename"]}): unknown split {split!r}')
        entry = out[split]
        entry['images'].append(
            dict(id=int(image['cocoid']), file_name=f'{image["filepath"]}/{image["filename"]}'))
        for sentence in image['sentences']:
            entry['annotations'].append(
                dict(id=ann_id, image_id=int(image['cocoid']), caption=sentence['raw'].strip()))
            ann_id += 1
    return out


def parse_args(argv: List[str] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('karpathy_json', help="Karpathy's dataset_coco.json")
    parser.add_argument('out_dir', help='folder of the COCO-captions files')
    parser.add_argument('--restval-to', default='train', choices=SPLITS + ('none', ),
                        help='split that receives the restval images (default: train)')
    parser.add_argument('--prefix', default='captions_karpathy', help='output file prefix')
    return parser.parse_args(argv)


def main(argv: List[str] = None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.karpathy_json):
        raise SystemExit(f'error: {args.karpathy_json} does not exist')
    with open(args.karpathy_json) as f:
        try:
            karpathy = json.load(f)
        except ValueError as e:
            raise SystemExit(f'error: {args.karpathy_json} is not valid JSON: {e}')
    try:
        splits = convert(karpathy, args.restval_to)
    except ValueError as e:
        raise SystemExit(f'error: {args.karpathy_json}: {e}')
    os.makedirs(args.out_dir, exist_ok=True)
    for split, data in splits.items():
        path = osp.join(args.out_dir, f'{args.prefix}_{split}.json')
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(data, f)
        os.replace(tmp, path)
        print(f'{path}: {len(data["images"])} images, {len(data["annotations"])} captions')


if __name__ == '__main__':
    main()
