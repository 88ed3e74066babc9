# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder demo: every task of one model on one image, with a visualisation.

    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task semantic \
        [--classes "red circle" sky ground] [--background none|NAME|0.5]  # open vocabulary
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task instance|panoptic
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task referring --text "the red star"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task retrieval \
        --texts "a red star" "a dog on grass"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task caption [--beam-size 5]
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task vqa --question "what is red?" \
        --answers star circle square
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task ref-caption --text "the star"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task region-retrieval --text "a star"

CHECKPOINT is an mmgen_vision checkpoint (trained, or converted from the official release with
tools/model_converters/xdecoder_to_mmgv.py); ``none`` runs random weights. IMAGE may be several
files and / or folders (their image files, sorted): ``a.jpg b.png imgs/ CONFIG CHECKPOINT``.
Each picture goes to ``<out-dir>/<image stem>_<task>.png`` and its text result is printed. An
image that cannot be read (missing, empty, not an image, truncated) does not stop the others:
every readable image is processed, then the demo lists the failures (path and reason) and exits
with status 1.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.realpath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

TASKS = ('semantic', 'instance', 'panoptic', 'referring', 'retrieval', 'caption', 'vqa',
         'ref-caption', 'region-retrieval')
#: Spellings of earlier releases, still accepted for one release (mapped with a warning).
OLD_TASKS = ('semseg', 'ref-seg')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='X-Decoder demo (all tasks)')
    parser.add_argument('image', nargs='+', help='image files and / or folders of images')
    parser.add_argument('config', help='X-Decoder config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for random weights')
    parser.add_argument('--task', default='semantic', choices=TASKS + OLD_TASKS)
    parser.add_argument('--classes', nargs='+', help='class names (default: the config\'s)')
    parser.add_argument('--background', default=None,
                        help='semantic background: "none" (default: every pixel gets one of the '
                        'classes), a class NAME among the classes (reported, left unpainted), '
                        'or a score threshold such as 0.5 (pixels below it get no class)')
    parser.add_argument('--text', help='referring phrase(s), "." between phrases')
    parser.add_argument('--texts', nargs='+', help='candidate texts for retrieval')
    parser.add_argument('--question', help='VQA question')
    parser.add_argument('--answers', nargs='+', help='VQA candidate answers')
    parser.add_argument('--beam-size', type=int, help='captioning beam size (1: greedy)')
    parser.add_argument('--out-dir', default='outputs', help='where the picture goes')
    parser.add_argument('--device', default=None, help='e.g. cpu or cuda:0')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Run the task on every readable image; exit with status 1, listing the unreadable ones,
    if any."""
    args = parse_args(argv)
    from mmgen_vision.apis import XDecoderInferencer
    from mmgen_vision.utils.image_io import expand_image_inputs, failure_report
    inferencer = XDecoderInferencer(args.config, args.checkpoint, device=args.device)
    if args.beam_size is not None:
        inferencer.model.test_cfg['beam_size'] = args.beam_size
    images = expand_image_inputs(args.image)
    result = inferencer(images, task=args.task, classes=args.classes, text=args.text,
                        texts=args.texts, question=args.question,
                        answer_candidates=args.answers, out_dir=args.out_dir,
                        background=_background(args.background))
    failed = {err.path for err in result['failures']}
    readable = [image for image in images if image not in failed]
    for image, pred in zip(readable, result['predictions']):
        if len(readable) > 1:
            print(f'== {image}')
        print_prediction(pred)
        stem = osp.splitext(osp.basename(image))[0]
        print(f'saved {osp.join(args.out_dir, f"{stem}_{args.task}.png")}')
    if result['failures']:
        raise SystemExit(failure_report(result['failures'], len(images)))
    return result


def _background(value):
    """``--background``: a number is a score threshold, anything else a name (or none)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def print_prediction(pred: dict) -> None:
    """The text part of one prediction dict of ``XDecoderInferencer``."""
    for key in ('caption', 'answer', 'ranking'):
        if key in pred:
            print(f'{key}: {pred[key]}')
    if 'names' in pred:
        pairs = zip(pred['names'], pred['scores'])
        print('instances:', ', '.join(f'{n} {s:.2f}' for n, s in pairs))
    if 'sem_seg' in pred:
        present = sorted(set(pred['sem_seg'].ravel().tolist()) - {255})
        print('classes present:', ', '.join(pred['classes'][i] for i in present))
    if 'background' in pred:
        print(f'background: {pred["background"]}')


if __name__ == '__main__':
    main()
