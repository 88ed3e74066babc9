# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter in-context demo: one example pair of any task + query images -> painted outputs.

    python demo/painter_demo.py CONFIG CHECKPOINT --prompt-img ex.jpg --prompt-target ex_out.png \
        --queries a.jpg b.jpg --out-dir vis/ [--task nyuv2_depth] [--use-cache] [--bicubic-target]

For every query it writes ``<name>_pred.png`` (the painted target at the query's size) and
``<name>_vis.png`` (prompt | prompt target | query | prediction). The prompt target is any
image, so tasks the model was not trained on work the same way; with ``--task`` a label mask
(e.g. ``masks/x.png`` of your own data) is encoded by that task's codec, and the demo prints
which codec it used (an already-encoded painting is detected and used as is). ``--queries``
takes files and folders (their image files). A query that cannot be read (missing, empty, not
an image, truncated) does not stop the others: every readable query is painted, then the demo
lists the failures (path and reason) and exits with status 1.
"""
import argparse
from typing import List, Optional

from mmgen_vision.apis import PainterInferencer
from mmgen_vision.utils.image_io import ImageReadError, failure_report


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='Painter config file')
    parser.add_argument('checkpoint', help='checkpoint (converted or trained)')
    parser.add_argument('--prompt-img', required=True, help='the example input image')
    parser.add_argument(
        '--prompt-target', required=True,
        help='the example output: an encoded painting, or with --task of a semantic codec a '
        'label mask (class indices, 255 = unlabelled), which is encoded by that codec')
    parser.add_argument('--queries', nargs='+', required=True,
                        help='query images and / or folders of query images')
    parser.add_argument('--out-dir', default='painter_vis', help='output folder')
    parser.add_argument('--task', default=None, help='decode with this codec of the model')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--use-cache', action='store_true',
                        help='reuse the prompt features (models with prompt_isolation)')
    parser.add_argument('--bicubic-target', action='store_true',
                        help='resize the prompt target bicubically (continuous outputs)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    """Paint every readable query; exit with status 1, listing the unreadable ones, if any."""
    args = parse_args(argv)
    inferencer = PainterInferencer(args.config, args.checkpoint, device=args.device,
                                   use_cache=True if args.use_cache else None)
    try:
        result = inferencer(args.prompt_img, args.prompt_target, args.queries,
                            out_dir=args.out_dir, task=args.task, batch_size=args.batch_size,
                            target_nearest=not args.bicubic_target)
    except ImageReadError as err:  # the prompt pair: nothing can be painted without it
        raise SystemExit(f'cannot paint without the prompt pair: {err}') from err
    print(f'wrote {len(result["predictions"])} predictions and side-by-side pictures to '
          f'{args.out_dir}')
    print(f'prompt target: {result["prompt_target_encoding"]}')
    if result['failures']:
        total = len(result['predictions']) + len(result['failures'])
        raise SystemExit(failure_report(result['failures'], total))
    return result


if __name__ == '__main__':
    main()
