# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The quick-start main job: generate ShapesWorld, train a toy config, evaluate it, draw results.

    python tools/misc/main_job.py [--job NAME] [--work-dir DIR] [--list]

Each job is a toy config that runs on a CPU in a few minutes. Every stage is the ordinary tool a
user would call (tools/misc/generate_shapesworld.py, tools/train.py, tools/test.py), run as a
subprocess with its output shown, so the job doubles as a worked example.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: name -> (config, metric key printed at the end, what it shows)
JOBS = {
    'shapesworld-seg': dict(
        config='configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py',
        metric='mIoU',
        about='stock mmseg FCN trained and evaluated on ShapesWorld (ADE20K layout): '
        'proves the data, registry, runner, metric and visualisation plumbing'),
}


def run(cmd: list) -> None:
    print(f'\n$ {" ".join(cmd)}', flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def latest_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (``<ts>/<ts>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'no metrics json under {work_dir}')
    with open(files[-1], encoding='utf-8') as f:
        return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--job', default='shapesworld-seg', choices=sorted(JOBS))
    parser.add_argument('--work-dir', help='default: work_dirs/main_job/<job>')
    parser.add_argument('--data-dir', default='data/shapesworld')
    parser.add_argument('--list', action='store_true', help='list the jobs and exit')
    args = parser.parse_args()
    if args.list:
        for name, job in sorted(JOBS.items()):
            print(f'{name:20s} {job["config"]}\n{"":20s} {job["about"]}')
        return
    job = JOBS[args.job]
    work_dir = args.work_dir or osp.join('work_dirs', 'main_job', args.job)
    py = sys.executable
    start = time.time()
    run([py, 'tools/misc/generate_shapesworld.py', '--out-dir', args.data_dir])
    run([py, 'tools/train.py', job['config'], '--work-dir', work_dir])
    with open(osp.join(ROOT, work_dir, 'last_checkpoint'), encoding='utf-8') as f:
        checkpoint = f.read().strip()
    vis_dir = osp.join(work_dir, 'vis')
    run([py, 'tools/test.py', job['config'], checkpoint, '--work-dir', work_dir, '--show-dir',
         vis_dir])
    metrics = latest_metrics(osp.join(ROOT, work_dir))
    print(f'\n== main job "{args.job}" done in {time.time() - start:.0f} s: {job["about"]}')
    for key, value in metrics.items():
        print(f'   {key}: {value}')
    print(f'   checkpoint: {checkpoint}\n   visualisations: {osp.join(ROOT, vis_dir)}')
    print(f'   headline {job["metric"]} = {metrics.get(job["metric"], metrics)}')


if __name__ == '__main__':
    os.chdir(ROOT)
    main()
