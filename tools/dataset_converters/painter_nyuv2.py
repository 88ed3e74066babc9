# Copyright (c) mmgen_vision contributors. All rights reserved.
"""NYU Depth v2 (BTS / Painter "sync" release) -> the mmgen_vision NYU layout.

    python tools/dataset_converters/painter_nyuv2.py SRC_ROOT SPLIT_FILE OUT_ROOT --split train
    # e.g. data/nyu_raw bts/train_test_inputs/nyudepthv2_train_files_with_gt.txt data/nyu

``SPLIT_FILE`` lists ``<rgb path> <depth path> <focal>`` per line, paths relative to
``SRC_ROOT`` (the BTS / Painter convention; lines whose depth is ``None`` are skipped). Depth
PNGs are uint16 millimetres. The output is::

    OUT_ROOT/<split>/rgb/000001.jpg     OUT_ROOT/<split>/depth/000001.png
    OUT_ROOT/<split>.txt               "<split>/rgb/000001.jpg <split>/depth/000001.png <focal>"

which ``mmseg.NYUDataset(data_prefix=dict(img_path='<split>/rgb',
depth_map_path='<split>/depth'))`` and ``mmseg.LoadDepthAnnotation(depth_rescale_factor=1e-3)``
read (depth in metres).
"""
import argparse
import os
import os.path as osp
import shutil
import sys
from typing import List, Tuple

import numpy as np
from PIL import Image

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmgen_vision.utils.image_io import read_image, read_image_file  # noqa: E402


def read_split(split_file: str) -> List[Tuple[str, str, str]]:
    """``(rgb, depth, focal)`` per usable line."""
    rows = []
    with open(split_file) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise ValueError(f'{split_file}:{n}: expected "<rgb> <depth> [focal]", got '
                                 f'{line.strip()!r}')
            if parts[1] == 'None':
                continue
            rows.append((parts[0].lstrip('/'), parts[1].lstrip('/'),
                         parts[2] if len(parts) > 2 else '518.8579'))
    return rows


def convert(src_root: str, split_file: str, out_root: str, split: str) -> int:
    rows = read_split(split_file)
    rgb_dir = osp.join(out_root, split, 'rgb')
    depth_dir = osp.join(out_root, split, 'depth')
    os.makedirs(rgb_dir, exist_ok=True)
    os.makedirs(depth_dir, exist_ok=True)
    lines = []
    for i, (rgb, depth, focal) in enumerate(rows, 1):
        src_rgb, src_depth = osp.join(src_root, rgb), osp.join(src_root, depth)
        for path in (src_rgb, src_depth):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path} (listed in {split_file}) does not exist')
        depth_img = read_image_file(src_depth, flag='unchanged')
        if depth_img.dtype != np.uint16 or depth_img.ndim != 2:
            raise ValueError(f'{src_depth}: depth must be a one-channel uint16 PNG in '
                             f'millimetres, got {depth_img.dtype} {depth_img.shape}')
        name = f'{i:06d}'
        ext = osp.splitext(rgb)[1].lower()
        rgb_img = read_image(src_rgb, channel_order='rgb')  # names the file if it is broken
        if ext in ('.jpg', '.jpeg'):
            shutil.copyfile(src_rgb, osp.join(rgb_dir, name + '.jpg'))
        else:
            Image.fromarray(rgb_img).save(osp.join(rgb_dir, name + '.jpg'), quality=95)
        shutil.copyfile(src_depth, osp.join(depth_dir, name + '.png'))
        lines.append(f'{split}/rgb/{name}.jpg {split}/depth/{name}.png {focal}')
    with open(osp.join(out_root, f'{split}.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src_root')
    parser.add_argument('split_file')
    parser.add_argument('out_root')
    parser.add_argument('--split', default='train', choices=['train', 'val'])
    args = parser.parse_args()
    n = convert(args.src_root, args.split_file, args.out_root, args.split)
    print(f'wrote {n} {args.split} pairs to {args.out_root}')


if __name__ == '__main__':
    main()
