# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Restoration downloads (SIDD, Rain13K / Rain100, LoL) -> paired folders matched by name.

    # two folders with the same file names (Rain13K input/target, LoL low/high)
    python tools/dataset_converters/painter_restoration.py pairs SRC_IN SRC_GT OUT_IN OUT_GT
    # SIDD(-Medium) scene folders holding *_NOISY_SRGB_*.PNG and *_GT_SRGB_*.PNG
    python tools/dataset_converters/painter_restoration.py sidd SIDD_Medium_Srgb/Data \
        data/restoration/sidd/train/input data/restoration/sidd/train/target

Output pairs share a file name (``<scene>_<n>.png`` for SIDD), which is what
``PainterRestorationDataset(input_dir=..., target_dir=...)`` matches. Images are copied as they
are (PNG re-encoded when the source is another format).
"""
import argparse
import os
import os.path as osp
import re
import shutil
import sys
from typing import List, Tuple

from PIL import Image

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmgen_vision.utils.image_io import read_image  # noqa: E402

EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def _copy_png(src: str, dst: str) -> None:
    """Copy a PNG unchanged, re-encode any other format as an RGB PNG; either way the source
    must read as an image (an ``ImageReadError`` names it and why otherwise)."""
    img = read_image(src, channel_order='rgb')
    if src.lower().endswith('.png'):
        shutil.copyfile(src, dst)
    else:
        Image.fromarray(img).save(dst)


def pairs_by_name(src_in: str, src_gt: str) -> List[Tuple[str, str, str]]:
    """``(input, target, out_name)`` for every input whose name exists among the targets."""
    targets = {osp.splitext(n)[0]: n for n in os.listdir(src_gt) if n.lower().endswith(EXTS)}
    out, missing = [], []
    for name in sorted(os.listdir(src_in)):
        if not name.lower().endswith(EXTS):
            continue
        stem = osp.splitext(name)[0]
        if stem not in targets:
            missing.append(name)
            continue
        out.append((osp.join(src_in, name), osp.join(src_gt, targets[stem]), stem + '.png'))
    if missing:
        raise FileNotFoundError(f'{len(missing)} inputs of {src_in} have no target in {src_gt}, '
                                f'e.g. {missing[:3]}')
    return out


def pairs_sidd(data_root: str) -> List[Tuple[str, str, str]]:
    """SIDD scene folders: ``*_NOISY_SRGB_<k>.PNG`` paired with ``*_GT_SRGB_<k>.PNG``."""
    out = []
    for scene in sorted(os.listdir(data_root)):
        folder = osp.join(data_root, scene)
        if not osp.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            m = re.match(r'(.*)_NOISY_SRGB_(\d+)\.png$', name, flags=re.IGNORECASE)
            if not m:
                continue
            gt = osp.join(folder, name.replace('NOISY', 'GT'))
            if not osp.isfile(gt):
                raise FileNotFoundError(f'{osp.join(folder, name)} has no ground truth {gt}')
            out.append((osp.join(folder, name), gt, f'{scene}_{m.group(2)}.png'))
    if not out:
        raise FileNotFoundError(f'no *_NOISY_SRGB_*.PNG files under {data_root}')
    return out


def write(pairs: List[Tuple[str, str, str]], out_in: str, out_gt: str) -> int:
    os.makedirs(out_in, exist_ok=True)
    os.makedirs(out_gt, exist_ok=True)
    for src_in, src_gt, name in pairs:
        _copy_png(src_in, osp.join(out_in, name))
        _copy_png(src_gt, osp.join(out_gt, name))
    return len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='mode', required=True)
    p = sub.add_parser('pairs', help='same file names in two folders')
    p.add_argument('src_in')
    p.add_argument('src_gt')
    s = sub.add_parser('sidd', help='SIDD scene folders')
    s.add_argument('data_root')
    for q in (p, s):
        q.add_argument('out_in')
        q.add_argument('out_gt')
    args = parser.parse_args()
    pairs = (pairs_by_name(args.src_in, args.src_gt) if args.mode == 'pairs' else
             pairs_sidd(args.data_root))
    print(f'wrote {write(pairs, args.out_in, args.out_gt)} pairs to {args.out_in} / '
          f'{args.out_gt}')


if __name__ == '__main__':
    main()
