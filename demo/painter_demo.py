# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter in-context demo: one example pair of any task + query images -> painted outputs.

    python demo/painter_demo.py CONFIG CHECKPOINT --prompt-img ex.jpg --prompt-target ex_out.png \
        --queries a.jpg b.jpg --out-dir vis/ [--task nyuv2_depth] [--use-cache] [--bicubic-target]

For every query it writes ``<name>_pred.png`` (the painted target at the query's size) and
``<name>_vis.png`` (prompt | prompt target | query | prediction). The prompt target is any
image, so tasks the model was not trained on work the same way.
"""
import argparse

from mmgen_vision.apis import PainterInferencer


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='Painter config file')
    parser.add_argument('checkpoint', help='checkpoint (converted or trained)')
    parser.add_argument('--prompt-img', required=True, help='the example input image')
    parser.add_argument('--prompt-target', required=True, help='the example output image')
    parser.add_argument('--queries', nargs='+', required=True, help='query images')
    parser.add_argument('--out-dir', default='painter_vis', help='output folder')
    parser.add_argument('--task', default=None, help='decode with this codec of the model')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--use-cache', action='store_true',
                        help='reuse the prompt features (models with prompt_isolation)')
    parser.add_argument('--bicubic-target', action='store_true',
                        help='resize the prompt target bicubically (continuous outputs)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    inferencer = PainterInferencer(args.config, args.checkpoint, device=args.device,
                                   use_cache=True if args.use_cache else None)
    result = inferencer(args.prompt_img, args.prompt_target, args.queries, out_dir=args.out_dir,
                        task=args.task, batch_size=args.batch_size,
                        target_nearest=not args.bicubic_target)
    print(f'wrote {len(result["predictions"])} predictions and side-by-side pictures to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
