# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Generate the ShapesWorld synthetic dataset in every (or some) real on-disk formats.

Examples:
    python tools/misc/generate_shapesworld.py                       # data/shapesworld, defaults
    python tools/misc/generate_shapesworld.py --num-train 512 --num-val 128 --image-size 128
    python tools/misc/generate_shapesworld.py --formats coco ade --out-dir /tmp/sw --force
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmgen_vision.datasets.shapesworld import FORMATS, generate_shapesworld  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate ShapesWorld (deterministic synthetic scenes) in real dataset '
        'layouts: ' + ', '.join(FORMATS))
    parser.add_argument('--out-dir', default='data/shapesworld', help='dataset root')
    parser.add_argument('--num-train', type=int, default=64, help='number of training scenes')
    parser.add_argument('--num-val', type=int, default=16, help='number of validation scenes')
    parser.add_argument('--image-size', type=int, default=96, help='image side in pixels (64-128)')
    parser.add_argument('--seed', type=int, default=0, help='non-negative random seed')
    parser.add_argument('--formats',
                        nargs='+',
                        choices=FORMATS,
                        default=None,
                        help='formats to write (all)')
    parser.add_argument('--samples-per-shard',
                        type=int,
                        default=16,
                        help='samples per webdataset tar shard')
    parser.add_argument('--class-colors',
                        action='store_true',
                        help='easier variant: every shape class has one colour (red circles, '
                        'green squares, blue triangles, yellow stars); same layouts and masks')
    parser.add_argument('--force',
                        action='store_true',
                        help='regenerate even if an identical dataset exists')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        roots = generate_shapesworld(args.out_dir,
                                     num_train=args.num_train,
                                     num_val=args.num_val,
                                     image_size=args.image_size,
                                     seed=args.seed,
                                     formats=args.formats,
                                     force=args.force,
                                     samples_per_shard=args.samples_per_shard,
                                     class_colors=args.class_colors)
    except (ValueError, FileExistsError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - start
    print(f'ShapesWorld ready in {elapsed:.2f} s at {osp.abspath(args.out_dir)}')
    for fmt, root in roots.items():
        print(f'  {fmt:<12} {root}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
