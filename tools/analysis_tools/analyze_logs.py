# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Plot curves and compute the training time from MMEngine's json logs.

    python tools/analysis_tools/analyze_logs.py plot_curve LOG [LOG ...] [--keys loss mIoU]
        [--legend NAME ...] [--title TITLE] [--out curve.png]
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG [LOG ...] [--include-outliers]

A LOG is a ``scalars.json`` written by MMEngine's ``LocalVisBackend`` (one JSON object per line
with ``step`` and the logged scalars), or a directory: a work dir or a run's timestamp dir, in
which the most recent ``vis_data/scalars.json`` is used. Training lines carry the learning rate
(``lr``, ``base_lr``...) or a loss; validation lines carry the metrics (``mIoU``, ``bbox_mAP``...).
The ``step`` of a training line is the iteration; that of a validation line the iteration of
iteration-based loops and the epoch of epoch-based ones.
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np


def find_scalars_file(path: str) -> str:
    """Resolve a LOG argument to a ``scalars.json`` file (see the module docstring)."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'log {path} does not exist')
    candidates = [osp.join(path, 'scalars.json'), osp.join(path, 'vis_data', 'scalars.json')]
    candidates += sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')),
                         reverse=True)  # timestamp dirs: the latest run first
    for candidate in candidates:
        if osp.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'no vis_data/scalars.json under {path}')


def load_scalars(path: str) -> List[dict]:
    """The log's lines as dicts, in file order (blank lines are skipped)."""
    path = find_scalars_file(path)
    rows = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{lineno} is not a JSON line: {err}') from err
            if 'step' not in row:
                raise ValueError(f'{path}:{lineno} has no "step": not an MMEngine scalars log')
            rows.append(row)
    return rows


def is_train_row(row: dict) -> bool:
    """Whether a log line was written by a training iteration (it carries an lr or a loss)."""
    return any(k.endswith('lr') or k == 'loss' or k.startswith('loss') for k in row)


def get_curve(rows: Sequence[dict], key: str) -> Dict[str, np.ndarray]:
    """``steps`` and ``values`` of ``key`` over the log.

    Raises:
        KeyError: when no line has ``key``, naming the keys the log has.
    """
    steps = [row['step'] for row in rows if key in row]
    if not steps:
        available = sorted({k for row in rows for k in row} - {'step'})
        raise KeyError(f'no "{key}" in the log; its keys are {available}')
    values = [row[key] for row in rows if key in row]
    return dict(steps=np.asarray(steps), values=np.asarray(values, dtype=np.float64))


def plot_curve(logs: Sequence[str],
               keys: Sequence[str] = ('loss', ),
               legend: Optional[Sequence[str]] = None,
               title: Optional[str] = None,
               out: str = 'curve.png') -> str:
    """Plot ``keys`` of every log, one panel per key, and save the figure to ``out``.

    Args:
        logs (Sequence[str]): scalars.json files or directories.
        keys (Sequence[str]): Scalars to plot (``loss``, ``mIoU``, ``lr``...).
        legend (Sequence[str], optional): One name per log, or one per (log, key) pair in the
            order log-major. Default: ``<log name>_<key>``.
        title (str, optional): Figure title.
        out (str): Image file to write (format from the suffix).

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    keys = list(keys)
    if not logs or not keys:
        raise ValueError('plot_curve needs at least one log and one key')
    if legend is not None and len(legend) not in (len(logs), len(logs) * len(keys)):
        raise ValueError(f'--legend takes one name per log ({len(logs)}) or per log and key '
                         f'({len(logs) * len(keys)}), got {len(legend)}')
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 3.2 * len(keys)), squeeze=False)
    for i, log in enumerate(logs):
        rows = load_scalars(log)
        default_name = osp.basename(osp.dirname(osp.dirname(find_scalars_file(log)))) or log
        for j, key in enumerate(keys):
            curve = get_curve(rows, key)
            if legend is None:
                label = f'{default_name}_{key}'
            elif len(legend) == len(logs) * len(keys):
                label = legend[i * len(keys) + j]
            else:
                label = legend[i]
            ax = axes[j, 0]
            marker = 'o' if len(curve['steps']) < 30 else None
            ax.plot(curve['steps'], curve['values'], label=label, marker=marker, markersize=3)
            ax.set_xlabel('step')
            ax.set_ylabel(key)
            ax.grid(True, alpha=0.3)
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def cal_train_time(log: str, include_outliers: bool = False) -> dict:
    """Statistics of the training iteration time of one log.

    Each training line's ``time`` is the mean iteration time of its logging window. The first
    training line includes the start-up (workers, cuDNN autotuning) and is skipped unless
    ``include_outliers``.

    Returns:
        dict: ``average`` (s/iter), ``std``, ``slowest`` and ``fastest`` as ``(step, time)``,
        ``num_entries``, and ``steps`` / ``times`` used.
    """
    rows = [row for row in load_scalars(log) if is_train_row(row) and 'time' in row]
    if not include_outliers:
        rows = rows[1:]
    if not rows:
        raise ValueError(f'{log} has no training line with "time"'
                         + ('' if include_outliers else ' after the first one'))
    times = np.asarray([row['time'] for row in rows], dtype=np.float64)
    steps = [row['step'] for row in rows]
    return dict(
        average=float(times.mean()),
        std=float(times.std()),
        slowest=(steps[int(times.argmax())], float(times.max())),
        fastest=(steps[int(times.argmin())], float(times.min())),
        num_entries=len(rows),
        steps=steps,
        times=times.tolist())


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Analyse MMEngine json logs')
    sub = parser.add_subparsers(dest='task', required=True)
    plot = sub.add_parser('plot_curve', help='plot scalars against the step')
    plot.add_argument('logs', nargs='+', help='scalars.json files or work/run directories')
    plot.add_argument('--keys', nargs='+', default=['loss'], help='scalars to plot')
    plot.add_argument('--legend', nargs='+', help='one name per log, or per log and key')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--out', default='curve.png', help='image file to write')
    time_ = sub.add_parser('cal_train_time', help='average training iteration time')
    time_.add_argument('logs', nargs='+', help='scalars.json files or work/run directories')
    time_.add_argument(
        '--include-outliers',
        action='store_true',
        help='include the first training line (start-up time) in the statistics')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    try:
        return _run(args)
    except (KeyError, ValueError, FileNotFoundError) as err:  # one clear line, no traceback
        raise SystemExit(f'analyze_logs.py {args.task}: error: {err.args[0]}') from err


def _run(args: argparse.Namespace):
    if args.task == 'plot_curve':
        out = plot_curve(args.logs, args.keys, args.legend, args.title, args.out)
        print(f'curve of {", ".join(args.keys)} saved to {out}')
        return out
    results = []
    for log in args.logs:
        stats = cal_train_time(log, args.include_outliers)
        results.append(stats)
        print(f'{"-" * 5}Analyze train time of {find_scalars_file(log)}{"-" * 5}')
        print(f'slowest entry: step {stats["slowest"][0]}, {stats["slowest"][1]:.4f} s/iter')
        print(f'fastest entry: step {stats["fastest"][0]}, {stats["fastest"][1]:.4f} s/iter')
        print(f'time std over {stats["num_entries"]} entries: {stats["std"]:.4f}')
        print(f'average iter time: {stats["average"]:.4f} s/iter')
    return results


if __name__ == '__main__':
    main()
