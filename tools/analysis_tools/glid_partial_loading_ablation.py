# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID's central ablation at toy scale: fine-tune from none / the encoder / encoder+decoder /
encoder+decoder+queries of one pre-trained checkpoint and compare the results.

Every run goes through ``tools/train.py`` and ``tools/test.py`` (the stock metrics), on a
ShapesWorld generated here (or given). Without ``--pretrained`` the toy pre-training runs
first. The table is printed, saved as json and, unless ``--no-readme``, written into
``configs/glid/README.md`` between the ablation markers.

Example::

    python tools/analysis_tools/glid_partial_loading_ablation.py \
        --work-dir work_dirs/glid_ablation --tasks semantic depth
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO_ROOT, 'configs', 'glid')
LOAD_CHOICES = ('none', 'encoder', 'encoder+decoder', 'encoder+decoder+queries')
README_BEGIN = '<!-- glid-partial-loading-ablation:begin -->'
README_END = '<!-- glid-partial-loading-ablation:end -->'

# task -> (toy config, ShapesWorld format, metric key, metric label, higher is better)
TASKS = {
    'semantic': ('glid_toy_shapesworld-ade-semseg.py', 'ade', 'mIoU', 'mIoU', True),
    'depth': ('glid_toy_shapesworld-nyu-depth.py', 'nyu', 'rmse', 'RMSE (m)', False),
    'detection': ('glid_toy_shapesworld-coco-det.py', 'coco', 'coco/bbox_mAP_50', 'box AP50', True),
    'pose': ('glid_toy_shapesworld-coco-pose.py', 'coco', 'coco/AP', 'keypoint AP', True),
}
ANN_FILES = {'detection': 'annotations/instances_val2017.json',
             'pose': 'annotations/person_keypoints_val2017.json'}


def _task_name(task: str) -> str:
    """The project's task name (an older spelling is mapped with a warning)."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    from mmgen_vision.utils.deprecation import canonical_task
    return canonical_task(task, owner='--tasks')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='GLID partial-loading ablation (toy)')
    parser.add_argument('--work-dir', default='work_dirs/glid_partial_loading_ablation')
    parser.add_argument('--data-root', help='existing ShapesWorld root (64 px) to use')
    parser.add_argument('--num-train', type=int, default=256)
    parser.add_argument('--num-val', type=int, default=32)
    parser.add_argument('--pretrained', help='GLIDPretrainer checkpoint; else pre-train first')
    parser.add_argument('--tasks', nargs='+', default=['semantic', 'depth'], choices=list(TASKS),
                        type=_task_name, help='older spellings (semseg, det) are mapped')
    parser.add_argument('--loads', nargs='+', default=list(LOAD_CHOICES), choices=LOAD_CHOICES)
    parser.add_argument('--max-iters', type=int, help='override the toy fine-tuning length')
    parser.add_argument('--pretrain-iters', type=int, help='override the toy pre-training length')
    parser.add_argument('--readme', default=osp.join(CONFIGS, 'README.md'))
    parser.add_argument('--no-readme', action='store_true', help='do not edit the README')
    return parser.parse_args(argv)


def _run(args: List[str]) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(args)} failed ({proc.returncode}):\n'
                           f'{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}')


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _metrics(work_dir: str) -> dict:
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'no metrics json under {work_dir}')
    with open(files[-1]) as f:
        return json.load(f)


def _no_workers() -> List[str]:
    return [f'{loader}.{key}' for loader in ('train_dataloader', 'val_dataloader',
                                             'test_dataloader')
            for key in ('num_workers=0', 'persistent_workers=False')]


def data_options(task: str, root: str) -> List[str]:
    """``--cfg-options`` pointing a toy config at the generated data."""
    fmt_root = {
        'ade': osp.join(root, 'ade', 'ADEChallengeData2016'),
        'nyu': osp.join(root, 'nyu'),
        'coco': osp.join(root, 'coco'),
    }[TASKS[task][1]]
    opts = [f'{loader}.dataset.data_root={fmt_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    if task in ANN_FILES:
        ann = osp.join(fmt_root, ANN_FILES[task])
        opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    return opts


def pretrain(root: str, work_dir: str, iters: Optional[int]) -> str:
    opts = [f'train_dataloader.dataset.data_root={osp.join(root, "imagenet")}',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False']
    if iters:
        opts.append(f'train_cfg.max_iters={iters}')
    _run(['tools/train.py', osp.join(CONFIGS, 'glid_toy_shapesworld-pretrain.py'),
          '--work-dir', work_dir, '--cfg-options'] + opts)
    return _last_checkpoint(work_dir)


def finetune(task: str, load: str, root: str, checkpoint: str, work_dir: str,
             max_iters: Optional[int]) -> Dict[str, float]:
    """Train then test one (task, load) pair; returns the test metrics and the wall time."""
    config = osp.join(CONFIGS, TASKS[task][0])
    opts = data_options(task, root) + _no_workers()
    train_opts = opts + [f'model.pretrained.checkpoint={checkpoint}',
                         f'model.pretrained.load={load}']
    if max_iters:
        train_opts += [f'train_cfg.max_iters={max_iters}',
                       f'train_cfg.val_interval={max_iters + 1}',
                       f'default_hooks.checkpoint.interval={max_iters}']
    start = time.time()
    _run(['tools/train.py', config, '--work-dir', osp.join(work_dir, 'train'),
          '--cfg-options'] + train_opts)
    seconds = time.time() - start
    _run(['tools/test.py', config, _last_checkpoint(osp.join(work_dir, 'train')), '--work-dir',
          osp.join(work_dir, 'test'), '--cfg-options'] + opts)
    metrics = _metrics(osp.join(work_dir, 'test'))
    return dict(value=float(metrics[TASKS[task][2]]), train_seconds=seconds)


def format_table(results: Dict[str, Dict[str, dict]], setup: str) -> str:
    tasks = list(results)
    header = '| loaded from pre-training | ' + ' | '.join(
        f'{t}: {TASKS[t][3]} {"(higher better)" if TASKS[t][4] else "(lower better)"}'
        for t in tasks) + ' |'
    lines = [setup, '', header, '|' + '---|' * (len(tasks) + 1)]
    loads = [load for load in LOAD_CHOICES if any(load in results[t] for t in tasks)]
    for load in loads:
        cells = [f'{results[t][load]["value"]:.3f}' if load in results[t] else '-'
                 for t in tasks]
        lines.append(f'| {load} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_readme(path: str, table: str) -> None:
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f'{path} has no {README_BEGIN} ... {README_END} section to fill')
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    with open(path, 'w') as f:
        f.write(f'{head}{README_BEGIN}\n{table}\n{README_END}{tail}')


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    root = args.data_root
    if root is None:
        from mmgen_vision.datasets import generate_shapesworld
        root = osp.join(args.work_dir, 'shapesworld')
        generate_shapesworld(root, num_train=args.num_train, num_val=args.num_val,
                             image_size=64, seed=0, formats=('imagenet', 'ade', 'coco', 'nyu'))
    checkpoint = args.pretrained or pretrain(root, osp.join(args.work_dir, 'pretrain'),
                                             args.pretrain_iters)
    results: Dict[str, Dict[str, dict]] = {}
    for task in args.tasks:
        results[task] = {}
        for load in args.loads:
            out = finetune(task, load, root, checkpoint,
                           osp.join(args.work_dir, task, load.replace('+', '_')),
                           args.max_iters)
            results[task][load] = out
            print(f'{task} {load}: {TASKS[task][2]} = {out["value"]:.4f} '
                  f'({out["train_seconds"]:.0f} s training)', flush=True)
    setup = (f'Toy setting: ShapesWorld 64 px ({args.num_train} train / {args.num_val} val '
             f'scenes), one toy pre-training checkpoint, toy fine-tuning configs'
             + (f' shortened to {args.max_iters} iterations' if args.max_iters else '')
             + ', single run each (seed 0), stock metrics through tools/test.py.')
    table = format_table(results, setup)
    print(table)
    with open(osp.join(args.work_dir, 'ablation.json'), 'w') as f:
        json.dump(dict(results=results, checkpoint=checkpoint), f, indent=1)
    if not args.no_readme:
        write_readme(args.readme, table)
    return results


if __name__ == '__main__':
    main()
