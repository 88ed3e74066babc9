# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder demo: every task of one model on one image, with a visualisation.

    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task semseg \
        [--classes "red circle" sky ground]                 # open-vocabulary classes
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task instance|panoptic
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task ref-seg --text "the red star"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task retrieval \
        --texts "a red star" "a dog on grass"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task caption [--beam-size 5]
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task vqa --question "what is red?" \
        --answers star circle square
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task ref-caption --text "the star"
    python demo/xdecoder_demo.py IMAGE CONFIG CHECKPOINT --task region-retrieval --text "a star"

CHECKPOINT is an mmgen_vision checkpoint (trained, or converted from the official release with
tools/model_converters/xdecoder_to_mmgv.py); ``none`` runs random weights. The picture goes to
``<out-dir>/<image stem>_<task>.png`` and the text result is printed.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.realpath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

TASKS = ('semseg', 'instance', 'panoptic', 'ref-seg', 'retrieval', 'caption', 'vqa',
         'ref-caption', 'region-retrieval')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='X-Decoder demo (all tasks)')
    parser.add_argument('image', help='image file')
    parser.add_argument('config', help='X-Decoder config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for random weights')
    parser.add_argument('--task', default='semseg', choices=TASKS)
    parser.add_argument('--classes', nargs='+', help='class names (default: the config\'s)')
    parser.add_argument('--text', help='referring phrase(s), "." between phrases')
    parser.add_argument('--texts', nargs='+', help='candidate texts for retrieval')
    parser.add_argument('--question', help='VQA question')
    parser.add_argument('--answers', nargs='+', help='VQA candidate answers')
    parser.add_argument('--beam-size', type=int, help='captioning beam size (1: greedy)')
    parser.add_argument('--out-dir', default='outputs', help='where the picture goes')
    parser.add_argument('--device', default=None, help='e.g. cpu or cuda:0')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmgen_vision.apis import XDecoderInferencer
    inferencer = XDecoderInferencer(args.config, args.checkpoint, device=args.device)
    if args.beam_size is not None:
        inferencer.model.test_cfg['beam_size'] = args.beam_size
    result = inferencer(args.image, task=args.task, classes=args.classes, text=args.text,
                        texts=args.texts, question=args.question,
                        answer_candidates=args.answers, out_dir=args.out_dir)
    pred = result['predictions'][0]
    for key in ('caption', 'answer', 'ranking'):
        if key in pred:
            print(f'{key}: {pred[key]}')
    if 'names' in pred:
        pairs = zip(pred['names'], pred['scores'])
        print('instances:', ', '.join(f'{n} {s:.2f}' for n, s in pairs))
    if 'sem_seg' in pred:
        present = sorted(set(pred['sem_seg'].ravel().tolist()) - {255})
        print('classes present:', ', '.join(pred['classes'][i] for i in present))
    stem = osp.splitext(osp.basename(args.image))[0]
    print(f'saved {osp.join(args.out_dir, f"{stem}_{args.task}.png")}')
    return result


if __name__ == '__main__':
    main()
