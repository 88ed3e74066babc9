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

TINY_SD_DIR = 'data/tiny_sd'
BUILD_TINY_SD = ('from mmgen_vision.models.peekaboo.testing import build_tiny_stable_diffusion; '
                 f'build_tiny_stable_diffusion({TINY_SD_DIR!r})')

#: name -> config (trained unless ``train=False``), optional test config (default: the same),
#: extra --cfg-options, commands run first, the headline metric and what the job shows.
JOBS = {
    'shapesworld-seg': dict(
        config='configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py',
        metric='mIoU',
        about='stock mmseg FCN trained and evaluated on ShapesWorld (ADE20K layout): '
        'proves the data, registry, runner, metric and visualisation plumbing'),
    'groupvit': dict(
        config='configs/groupvit/groupvit_toy_shapesworld.py',
        test_config='configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py',
        # the toy recipe's data: 1024 class-coloured scenes at 64 px (as
        # tests/test_tools/test_groupvit_e2e.py; why class colours: configs/groupvit/README.md)
        data_dir='data/shapesworld_groupvit_cc',
        generate_args=['--num-train', '1024', '--num-val', '64', '--image-size', '64',
                       '--formats', 'shards', 'voc', '--samples-per-shard', '128',
                       '--class-colors'],
        train_options=['train_dataloader.dataset.data_root={data}/shards'],
        test_options=['test_dataloader.dataset.data_root={data}/voc/VOCdevkit/VOC2012'],
        metric='mIoU',
        about='toy GroupViT trained on class-coloured ShapesWorld image-caption shards (text '
        'only), then zero-shot segmentation of ShapesWorld VOC val (all-background scores '
        '14.2 mIoU, uniform chance 4.9)'),
    'painter': dict(
        config='configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py',
        test_config='configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py',
        # the toy configs' data (64 px scenes), as their header says
        data_dir='data/shapesworld64',
        generate_args=['--image-size', '64', '--num-train', '512', '--num-val', '32',
                       '--formats', 'ade', 'nyu', 'restoration', 'coco'],
        metric='mIoU',
        # in-context outputs are drawn by demo/painter_demo.py, not by a --show-dir hook
        show=False,
        about='toy Painter trained jointly on semantic segmentation, depth, denoising and '
        'instances (stitched pairs, masked image modelling), then in-context semantic '
        'segmentation of ShapesWorld val from one example pair'),
    'xdecoder': dict(
        config='configs/xdecoder/xdecoder_toy_shapesworld-joint.py',
        test_config='configs/xdecoder/xdecoder_toy_shapesworld-openvocab-test.py',
        metric='mIoU',
        about='toy X-Decoder trained jointly on ShapesWorld panoptic + referring + captions, '
        'then open-vocabulary semantic segmentation from class names given at test time'),
    'glid': dict(
        config='configs/glid/glid_toy_shapesworld-ade-semseg.py',
        data_dir='data/shapesworld64_glid',
        generate_args=['--image-size', '64', '--num-train', '256', '--num-val', '32',
                       '--formats', 'imagenet', 'ade'],
        # stage 1: query-to-answer MIM pre-training of the whole encoder-decoder
        prepare=[[sys.executable, 'tools/train.py', 'configs/glid/glid_toy_shapesworld-pretrain.py',
                  '--work-dir', '{work_dir}/pretrain', '--cfg-options',
                  'train_dataloader.dataset.data_root={data}/imagenet']],
        # stage 2: fine-tune from it (encoder + decoder + queries loaded, new linear head)
        train_options=['model.pretrained.checkpoint={work_dir}/pretrain/iter_200.pth'] + [
            f'{loader}.dataset.data_root={{data}}/ade/ADEChallengeData2016'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')],
        test_options=['test_dataloader.dataset.data_root={data}/ade/ADEChallengeData2016'],
        metric='mIoU',
        about='toy GLID: MIM pre-training of Swin + BiFPN + query decoder on ShapesWorld, '
        'then semantic-segmentation fine-tuning that swaps only the last linear layer'),
    'peekaboo': dict(
        config='configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py',
        train=False,
        prepare=[[sys.executable, '-c', BUILD_TINY_SD]],
        metric='cIoU',
        about='Peekaboo referring segmentation (inference-time optimisation, nothing trained) '
        'against a tiny RANDOM Stable Diffusion: the plumbing only, not accuracy'),
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
    parser.add_argument('--data-dir', default='data/shapesworld',
                        help='ShapesWorld root (jobs with their own data size use their own)')
    parser.add_argument('--list', action='store_true', help='list the jobs and exit')
    args = parser.parse_args()
    if args.list:
        for name, job in sorted(JOBS.items()):
            print(f'{name:20s} {job.get("test_config", job["config"])}\n{"":20s} {job["about"]}')
        return
    job = JOBS[args.job]
    work_dir = args.work_dir or osp.join('work_dirs', 'main_job', args.job)
    py = sys.executable
    start = time.time()
    data_dir = job.get('data_dir', args.data_dir)
    run([py, 'tools/misc/generate_shapesworld.py', '--out-dir', data_dir] +
        job.get('generate_args', []))

    def fill(value: str) -> str:
        return value.format(data=data_dir, work_dir=work_dir)

    def options(key: str) -> list:
        values = [fill(v) for v in job.get(key, [])]
        return ['--cfg-options'] + values if values else []

    for command in job.get('prepare', []):
        run([fill(part) for part in command])
    checkpoint = 'none'
    if job.get('train', True):
        run([py, 'tools/train.py', job['config'], '--work-dir', work_dir] +
            options('train_options'))
        with open(osp.join(ROOT, work_dir, 'last_checkpoint'), encoding='utf-8') as f:
            checkpoint = f.read().strip()
    vis_dir = osp.join(work_dir, 'vis') if job.get('show', True) else None
    run([py, 'tools/test.py', job.get('test_config', job['config']), checkpoint, '--work-dir',
         work_dir] + (['--show-dir', vis_dir] if vis_dir else []) + options('test_options'))
    metrics = latest_metrics(osp.join(ROOT, work_dir))
    print(f'\n== main job "{args.job}" done in {time.time() - start:.0f} s: {job["about"]}')
    for key, value in metrics.items():
        print(f'   {key}: {value}')
    print(f'   checkpoint: {checkpoint}')
    if vis_dir:
        print(f'   visualisations: {osp.join(ROOT, vis_dir)}')
    print(f'   headline {job["metric"]} = {metrics.get(job["metric"], metrics)}')


if __name__ == '__main__':
    os.chdir(ROOT)
    main()
