# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The quick-start main jobs: generate ShapesWorld, train a toy config, evaluate it against
label-only baselines, draw a gallery.

    python tools/misc/main_job.py [--job NAME | --job all] [--work-dir DIR] [--list]

Each job is a toy config that runs on a CPU in a few minutes (``painter``, the default, is
Painter's in-context learning; ``all`` runs the five methods one after another); a job whose
training takes longer than that starts from the checkpoint of that training the repository
ships (SHA-256 checked; ``--from-scratch`` trains it instead). Every stage is
the ordinary tool a user would call (tools/misc/generate_shapesworld.py, tools/train.py,
tools/test.py, tools/misc/gallery.py), run as a subprocess whose full output goes to
``<work_dir>/<phase>.log``; the terminal shows one line per setup step, one progress bar per
training / test phase (driven by MMEngine's ``Iter(train) [ 25/300] ... loss: ...`` lines) and a
final summary: the metric next to the baselines computed from the val data the job generated,
the threshold it must reach, and where the gallery is. The job exits with status 1 when a
threshold is missed (or a phase fails).
"""
import argparse
import dataclasses
import glob
import hashlib
import json
import os
import os.path as osp
import re
import resource
import shlex
import subprocess
import sys
import time
from collections import deque
from typing import Callable, Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The main jobs of ``--job all``, in order (the FCN plumbing job is not one of them).
ALL_JOBS = ('painter', 'xdecoder', 'glid', 'peekaboo', 'groupvit')
DEFAULT_JOB = 'painter'
#: Logger interval of the training phases (the configs log every 25 iterations; a finer
#: interval only makes the progress bar move more often, the training is the same).
TRAIN_LOG_INTERVAL = 5


# ------------------------------------------------------------------ baselines and thresholds
@dataclasses.dataclass(frozen=True)
class Threshold:
    """``metric >= max(baselines[over]) + margin``: the bar a job's headline metric must clear.

    Args:
        over (tuple[str]): Names of the baselines whose best one the metric must beat.
        margin (float): Points above that baseline.
    """
    over: Sequence[str]
    margin: float

    def value(self, baselines: Dict[str, float]) -> float:
        return max(baselines[name] for name in self.over) + self.margin

    def describe(self, metric: str) -> str:
        names = [name.replace('_', '-') for name in self.over]
        over = names[0] if len(names) == 1 else f'max({", ".join(names)})'
        return f'{metric} >= {over} + {self.margin:g}'


def _ade_baselines(subdir: str, num_classes: int = 7) -> Callable[[str], Dict[str, float]]:
    """Chance / majority mIoU of an ADE20K-layout val split under the job's data root."""

    def compute(data_dir: str) -> Dict[str, float]:
        from mmgen_vision.evaluation.baselines import ade_pixel_counts, segmentation_baselines
        return segmentation_baselines(ade_pixel_counts(osp.join(data_dir, subdir), num_classes))

    return compute


def _voc_baselines(data_dir: str) -> Dict[str, float]:
    """Chance / majority / all-background mIoU of ShapesWorld VOC val (background + 5)."""
    from mmgen_vision.evaluation.baselines import segmentation_baselines, voc_pixel_counts
    counts = voc_pixel_counts(osp.join(data_dir, 'voc', 'VOCdevkit', 'VOC2012'), 6)
    return segmentation_baselines(counts, background_index=0)


def _panoptic_baselines(data_dir: str) -> Dict[str, float]:
    """Chance / majority mIoU of ShapesWorld COCO panoptic val (the open-vocabulary test)."""
    from mmgen_vision.evaluation.baselines import (coco_panoptic_pixel_counts,
                                                   segmentation_baselines)
    return segmentation_baselines(coco_panoptic_pixel_counts(osp.join(data_dir, 'coco')))


def _referring_baselines(data_dir: str) -> Dict[str, float]:
    """mIoU of answering every ShapesWorld RefCOCO val expression with the whole image."""
    from mmgen_vision.evaluation.baselines import whole_image_miou
    return dict(whole_image=whole_image_miou(osp.join(data_dir, 'refcoco')))


#: name -> the job. ``config`` is trained unless ``train=False``; ``test_config`` (default: the
#: same) is evaluated; ``data_dir`` / ``generate_args``: its ShapesWorld; ``prepare``: commands
#: run first, each ``dict(name, cmd)`` (``progress=True``: a training run with a progress bar);
#: ``*_options``: extra ``--cfg-options`` ({data} and {work_dir} are filled in); ``baselines``:
#: data root -> label-only scores; ``threshold``: what ``metric`` must reach (None: reported
#: only); ``gallery``: the tools/misc/gallery.py method.
JOBS = {
    'shapesworld-seg': dict(
        config='configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py',
        metric='mIoU',
        baselines=_ade_baselines('ade/ADEChallengeData2016'),
        threshold=Threshold(('chance', 'majority'), 20.),
        gallery='seg',
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
        # the toy config's seed-0 run (the recipe's zero-shot score spreads over seeds and
        # thread counts: configs/groupvit/README.md); --from-scratch / --seed train it here
        checkpoint='checkpoints/groupvit_toy_shapesworld/groupvit_toy_shapesworld_seed0.pth',
        test_options=['test_dataloader.dataset.data_root={data}/voc/VOCdevkit/VOC2012'],
        metric='mIoU',
        baselines=_voc_baselines,
        threshold=Threshold(('all_background', ), 3.),
        gallery='groupvit',
        about='toy GroupViT trained on class-coloured ShapesWorld image-caption shards (text '
        'only), then zero-shot segmentation of ShapesWorld VOC val'),
    'painter': dict(
        config='configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py',
        test_config='configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py',
        # the toy configs' data (64 px scenes), as their header says
        data_dir='data/shapesworld64',
        generate_args=['--image-size', '64', '--num-train', '512', '--num-val', '32',
                       '--formats', 'ade', 'nyu', 'restoration', 'coco'],
        # the toy config's seed-0 run of this job (10 min of training on 2 cores, over the
        # 8-minute budget); --from-scratch / --seed train it here
        checkpoint='checkpoints/painter_toy_shapesworld/'
        'painter_vit-tiny-p4_toy-shapesworld-4tasks_seed0.pth',
        metric='mIoU',
        baselines=_ade_baselines('ade/ADEChallengeData2016'),
        threshold=Threshold(('chance', ), 5.),
        # in-context outputs are drawn by the gallery (prompt pair included), not --show-dir
        show=False,
        gallery='painter',
        about='toy Painter trained jointly on semantic segmentation, depth, denoising and '
        'instances (stitched pairs, masked image modelling), then in-context semantic '
        'segmentation of ShapesWorld val from one example pair'),
    'xdecoder': dict(
        config='configs/xdecoder/xdecoder_toy_shapesworld-joint.py',
        test_config='configs/xdecoder/xdecoder_toy_shapesworld-openvocab-test.py',
        metric='mIoU',
        baselines=_panoptic_baselines,
        threshold=Threshold(('chance', 'majority'), 5.),
        gallery='xdecoder',
        about='toy X-Decoder trained jointly on ShapesWorld panoptic + referring + captions, '
        'then open-vocabulary semantic segmentation from class names given at test time'),
    'glid': dict(
        config='configs/glid/glid_toy_shapesworld-ade-semseg.py',
        data_dir='data/shapesworld64_glid',
        generate_args=['--image-size', '64', '--num-train', '256', '--num-val', '32',
                       '--formats', 'imagenet', 'ade'],
        # stage 1: query-to-answer MIM pre-training of the whole encoder-decoder
        prepare=[dict(name='pretrain', progress=True, cmd=[
            sys.executable, 'tools/train.py', 'configs/glid/glid_toy_shapesworld-pretrain.py',
            '--work-dir', '{work_dir}/pretrain', '--cfg-options',
            'train_dataloader.dataset.data_root={data}/imagenet',
            f'default_hooks.logger.interval={TRAIN_LOG_INTERVAL}'])],
        # stage 2: fine-tune from it (encoder + decoder + queries loaded, new linear head)
        train_options=['model.pretrained.checkpoint={work_dir}/pretrain/iter_200.pth'] + [
            f'{loader}.dataset.data_root={{data}}/ade/ADEChallengeData2016'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')],
        test_options=['test_dataloader.dataset.data_root={data}/ade/ADEChallengeData2016'],
        metric='mIoU',
        baselines=_ade_baselines('ade/ADEChallengeData2016'),
        threshold=Threshold(('chance', ), 10.),
        gallery='glid',
        about='toy GLID: MIM pre-training of Swin + BiFPN + query decoder on ShapesWorld, '
        'then semantic-segmentation fine-tuning that swaps only the last linear layer'),
    'peekaboo': dict(
        config='configs/peekaboo/peekaboo_tiny-t2i_shapesworld-refcoco.py',
        train=False,
        # the learned guide's data, as its configs and COMMAND generate it (the same folder: a
        # ShapesWorld with other parameters there is refused, not replaced): class-coloured 96 px
        # scenes; the shipped guide was trained on their train split
        data_dir='data/shapesworld_cc_t2i',
        generate_args=['--num-train', '1024', '--num-val', '16', '--image-size', '96',
                       '--formats', 'coco', 'refcoco', 'voc', '--class-colors'],
        # 8 expressions per batch: 2.2x faster on 2 CPU cores than one at a time, each
        # expression's mask the same alone or in a batch (seeded per image; float rounding apart)
        test_options=['test_dataloader.dataset.data_root={data}/refcoco',
                      'test_dataloader.batch_size=8'],
        metric='mIoU',
        baselines=_referring_baselines,
        threshold=Threshold(('whole_image', ), 10.),
        gallery='peekaboo',
        about='Peekaboo referring segmentation (inference-time optimisation of an alpha mask, '
        'nothing trained here) by score distillation from the shipped tiny text-to-image '
        'diffusion model learned on ShapesWorld captions'),
}


# ------------------------------------------------------------------ running the phases
class PhaseError(RuntimeError):
    """A phase failed: its command exited non-zero (the message names its log), or what it
    needs is missing or altered (a shipped checkpoint)."""


#: MMEngine's progress lines: ``Iter(train) [ 25/300]`` or ``Epoch(test) [1][ 4/16]``.
ITER_RE = re.compile(r'(?:Iter|Epoch)\((?:train|val|test)\)\s*(?:\[\s*\d+\])?\s*'
                     r'\[\s*(\d+)/(\d+)\]')
LOSS_RE = re.compile(r'\sloss: ([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))')
ETA_RE = re.compile(r'\seta: ([0-9:]+(?: day[s]?, [0-9:]+)?)')


def parse_progress(line: str) -> Optional[dict]:
    """``dict(iter, total, loss, eta)`` of an MMEngine progress line, None for other lines
    (``loss`` and ``eta`` are None where the line has none, e.g. a test line's loss)."""
    match = ITER_RE.search(line)
    if match is None:
        return None
    loss, eta = LOSS_RE.search(line), ETA_RE.search(line)
    return dict(iter=int(match.group(1)), total=int(match.group(2)),
                loss=float(loss.group(1)) if loss else None, eta=eta.group(1) if eta else None)


def _show_command(cmd: Sequence[str]) -> str:
    """The command as a shell line (paths inside the repository relative to it)."""
    return shlex.join(osp.relpath(c, ROOT) if osp.isabs(c) and c.startswith(ROOT) else c
                      for c in cmd)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_phase(name: str, cmd: List[str], log_path: str, progress: bool = False,
              env: Optional[dict] = None, what: Optional[str] = None) -> dict:
    """Run one phase's command, its stdout + stderr written to ``log_path``.

    With ``progress``, MMEngine's iteration lines drive a tqdm bar (iterations, loss, MMEngine's
    ETA); otherwise one line says what runs (``what``, default ``name``) and one how long it
    took.

    Returns:
        dict: ``seconds`` (wall clock), ``cpu_seconds`` (user + system time of the command and
        its children: on a busy machine, what the phase costs), ``log`` and, for progress
        phases, the last ``iter`` / ``total`` / ``loss`` seen.

    Raises:
        PhaseError: The command exited non-zero; the message holds the tail of the log.
    """
    from tqdm import tqdm
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    full_env = dict(os.environ, PYTHONUNBUFFERED='1')
    full_env.update(env or {})
    start, cpu_start = time.time(), _children_cpu_seconds()
    state: dict = dict(iter=0, total=None, loss=None)
    tail: deque = deque(maxlen=40)
    bar = None
    if progress:
        bar = tqdm(desc=f'{name:>8}', total=None, unit='it', dynamic_ncols=True, leave=True,
                   bar_format='{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} '
                   '[{elapsed}{postfix}]')
    else:
        print(f'[setup] {what or name} ...', flush=True)
    with open(log_path, 'w', encoding='utf-8') as log:
        log.write(f'$ {_show_command(cmd)}\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors='replace',
                                bufsize=1)
        for line in proc.stdout:
            log.write(line)
            tail.append(line.rstrip('\n'))
            info = parse_progress(line) if bar is not None else None
            if info is None:
                continue
            if bar.total != info['total']:
                bar.total = info['total']
            bar.update(info['iter'] - bar.n)
            state.update(iter=info['iter'], total=info['total'])
            postfix = {}
            if info['loss'] is not None:
                state['loss'] = info['loss']
                postfix['loss'] = f'{info["loss"]:.4g}'
            if info['eta'] is not None:
                postfix['eta'] = info['eta']
            bar.set_postfix(postfix, refresh=True)
        code = proc.wait()
    state.update(seconds=time.time() - start, cpu_seconds=_children_cpu_seconds() - cpu_start,
                 log=log_path)
    if bar is not None:
        bar.close()
    if code != 0:
        raise PhaseError(f'{name} failed (exit {code}); full log: {log_path}; its end:\n' +
                         '\n'.join(tail))
    if bar is None:
        print(f'[setup] {name}: done in {state["seconds"]:.0f} s (log: {log_path})', flush=True)
    return state


def latest_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (``<ts>/<ts>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'no metrics json under {work_dir}')
    with open(files[-1], encoding='utf-8') as f:
        return json.load(f)


def verdict(job: dict, metrics: dict, baselines: Dict[str, float]) -> dict:
    """The headline metric against its threshold: ``dict(metric, value, threshold, bar,
    passed)`` (``bar`` and ``threshold`` None and ``passed`` True for a job without one)."""
    value = metrics.get(job['metric'])
    if value is None:
        raise KeyError(f'the test did not report {job["metric"]!r}: {sorted(metrics)}')
    threshold = job.get('threshold')
    if threshold is None:
        return dict(metric=job['metric'], value=value, threshold=None, bar=None, passed=True)
    bar = threshold.value(baselines)
    return dict(metric=job['metric'], value=value, threshold=threshold.describe(job['metric']),
                bar=bar, passed=value >= bar)


def summary_lines(name: str, job: dict, result: dict) -> List[str]:
    """The terminal summary of one finished job."""
    v = result['verdict']
    lines = [f'== main job "{name}" done in {result["seconds"]:.0f} s: {job["about"]}']
    phases = ', '.join(f'{p} {s:.0f} s' for p, s in result['phase_seconds'].items())
    lines.append(f'   phases: {phases} (CPU time of the tools: {result["cpu_seconds"]:.0f} s)')
    base = ', '.join(f'{k.replace("_", "-")} {b:.2f}' for k, b in result['baselines'].items())
    lines.append(f'   {v["metric"]} = {v["value"]:.2f}   (label-only baselines: {base})')
    if v['threshold'] is None:
        lines.append('   threshold: none (the metric is reported only)')
    else:
        status = 'PASSED' if v['passed'] else 'MISSED'
        lines.append(f'   threshold: {v["threshold"]} = {v["bar"]:.2f}  -> {status}')
    # tools/test.py also reports its timing (time, data_time): not metrics
    others = {k: x for k, x in result['metrics'].items()
              if k not in (v['metric'], 'time', 'data_time')}
    if others:
        lines.append('   other metrics: ' + ', '.join(
            f'{k} {x:.2f}' if isinstance(x, (int, float)) else f'{k} {x}'
            for k, x in others.items()))
    if result.get('checkpoint') not in (None, 'none'):
        lines.append(f'   checkpoint: {result["checkpoint"]}')
    lines.append(f'   gallery: {result["gallery"]}')
    if result.get('vis'):
        lines.append(f'   all val predictions (tools/test.py --show-dir): {result["vis"]}')
    lines.append(f'   logs: {result["work_dir"]}/<phase>.log')
    return lines


def shipped_checkpoint(path: str) -> str:
    """The absolute path of a checkpoint the repository ships, after checking its SHA-256
    against the ``SHA256SUMS`` of its folder.

    Raises:
        PhaseError: The file or its sum is missing, or the file is not the one recorded.
    """
    path = osp.join(ROOT, path)
    sums = osp.join(osp.dirname(path), 'SHA256SUMS')
    name = osp.basename(path)
    if not osp.isfile(path) or not osp.isfile(sums):
        raise PhaseError(f'shipped checkpoint {path} or its {sums} is missing (train from '
                         f'scratch with --from-scratch)')
    with open(sums, encoding='utf-8') as f:
        recorded = {ln.split()[-1]: ln.split()[0] for ln in f.read().splitlines() if ln.strip()}
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    if recorded.get(name) != digest.hexdigest():
        raise PhaseError(f'shipped checkpoint {path}: SHA-256 {digest.hexdigest()} is not the '
                         f'one {sums} records ({recorded.get(name)}); the file was changed')
    return path


def run_job(name: str, work_dir: Optional[str] = None, data_dir: str = 'data/shapesworld',
            train_options: Sequence[str] = (), from_scratch: bool = False) -> dict:
    """Run one main job; return its result (metrics, baselines, verdict, times, paths).
    ``train_options`` are more ``--cfg-options`` of its training run. A job with a shipped
    ``checkpoint`` tests it (SHA-256 checked) unless ``from_scratch``.

    Raises:
        PhaseError: A phase failed.
    """
    job = JOBS[name]
    work_dir = work_dir or osp.join('work_dirs', 'main_job', name)
    abs_work_dir = osp.join(ROOT, work_dir)
    py = sys.executable
    data_dir = job.get('data_dir', data_dir)
    print(f'\n=== main job "{name}": {job["about"]}', flush=True)
    start = time.time()
    phase_seconds: Dict[str, float] = {}
    cpu_seconds = 0.

    def fill(value: str) -> str:
        return value.format(data=data_dir, work_dir=work_dir)

    def options(*keys: str, extra: Sequence[str] = ()) -> list:
        values = [fill(v) for key in keys for v in job.get(key, [])] + list(extra)
        return ['--cfg-options'] + values if values else []

    def phase(label: str, cmd: list, progress: bool = False, what: Optional[str] = None) -> dict:
        log = osp.join(abs_work_dir, label.replace(' ', '_') + '.log')
        nonlocal cpu_seconds
        state = run_phase(label, cmd, log, progress=progress, what=what)
        phase_seconds[label] = state['seconds']
        cpu_seconds += state.get('cpu_seconds', 0.)
        return state

    phase('data', [py, 'tools/misc/generate_shapesworld.py', '--out-dir', data_dir] +
          job.get('generate_args', []),
          what=f'data: ShapesWorld in {data_dir} (kept when it is already there)')
    for step in job.get('prepare', []):
        phase(step['name'], [fill(part) for part in step['cmd']],
              progress=step.get('progress', False))
    checkpoint = 'none'
    if job.get('checkpoint') and not from_scratch:
        checkpoint = shipped_checkpoint(job['checkpoint'])
        print(f'   checkpoint: {job["checkpoint"]} (shipped, SHA-256 checked; '
              f'--from-scratch trains the config here instead)', flush=True)
        # as a training run leaves it: what the job evaluated, for the commands that read it
        os.makedirs(abs_work_dir, exist_ok=True)
        with open(osp.join(abs_work_dir, 'last_checkpoint'), 'w', encoding='utf-8') as f:
            f.write(checkpoint)
    elif job.get('train', True):
        phase('train', [py, 'tools/train.py', job['config'], '--work-dir', work_dir] +
              options('train_options',
                      extra=[f'default_hooks.logger.interval={TRAIN_LOG_INTERVAL}'] +
                      list(train_options)),
              progress=True)
        with open(osp.join(abs_work_dir, 'last_checkpoint'), encoding='utf-8') as f:
            checkpoint = f.read().strip()
    test_config = job.get('test_config', job['config'])
    vis_dir = osp.join(abs_work_dir, 'vis') if job.get('show', True) else None
    phase('test', [py, 'tools/test.py', test_config, checkpoint, '--work-dir', work_dir] +
          (['--show-dir', vis_dir] if vis_dir else []) +
          options('test_options', extra=['default_hooks.logger.interval=1']), progress=True)
    metrics = latest_metrics(abs_work_dir)
    baselines = job['baselines'](osp.join(ROOT, data_dir))
    result = dict(metrics=metrics, baselines=baselines, verdict=verdict(job, metrics, baselines),
                  checkpoint=checkpoint, work_dir=abs_work_dir, vis=vis_dir)
    gallery_dir = osp.join(abs_work_dir, 'gallery')
    notes = [f'{job["about"]}.']
    v = result['verdict']
    base = ', '.join(f'{k.replace("_", "-")} {b:.2f}' for k, b in baselines.items())
    notes.append(f'{v["metric"]} {v["value"]:.2f} on the val split (label-only baselines: {base})'
                 + (f'; threshold {v["threshold"]} = {v["bar"]:.2f}' if v['threshold'] else ''))
    phase('gallery', [py, 'tools/misc/gallery.py', job['gallery'], test_config, checkpoint,
                      '--out-dir', gallery_dir, '--title', f'main job "{name}"', '--notes'] +
          notes + options('test_options'),
          what='gallery: predictions of 4 val scenes through the inferencer')
    result.update(gallery=osp.join(gallery_dir, 'index.html'), phase_seconds=phase_seconds,
                  cpu_seconds=cpu_seconds, seconds=time.time() - start)
    for line in summary_lines(name, job, result):
        print(line, flush=True)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--job', default=DEFAULT_JOB, choices=sorted(JOBS) + ['all'],
                        help=f'a main job, or "all" ({", ".join(ALL_JOBS)}); default: '
                        f'{DEFAULT_JOB}')
    parser.add_argument('--work-dir', help='default: work_dirs/main_job/<job> (with --job all: '
                        '<work-dir>/<job>)')
    parser.add_argument('--data-dir', default='data/shapesworld',
                        help='ShapesWorld root (jobs with their own data size use their own)')
    parser.add_argument('--train-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='more --cfg-options of the training run, e.g. '
                        'train_cfg.max_iters=50 for a quick look (the thresholds are meant '
                        'for the configs as they are); implies --from-scratch')
    parser.add_argument('--seed', type=int,
                        help='random seed of the training runs (randomness.seed; default: the '
                        "config's, 0), e.g. to check a job's margin on several seeds; implies "
                        '--from-scratch')
    parser.add_argument('--from-scratch', action='store_true',
                        help='train every job, also those that start from a checkpoint the '
                        'repository ships (groupvit)')
    parser.add_argument('--list', action='store_true', help='list the jobs and exit')
    args = parser.parse_args(argv)
    if args.seed is not None:
        args.train_options = list(args.train_options) + [f'randomness.seed={args.seed}']
    # a training seed or training options ask for a training run
    args.from_scratch = args.from_scratch or bool(args.train_options)
    if args.list:
        for name, job in sorted(JOBS.items()):
            default = ' (default)' if name == DEFAULT_JOB else ''
            print(f'{name + default:20s} {job.get("test_config", job["config"])}\n'
                  f'{"":20s} {job["about"]}')
        print(f'{"all":20s} {", ".join(ALL_JOBS)}, one after another')
        return 0
    names = list(ALL_JOBS) if args.job == 'all' else [args.job]
    start = time.time()
    results, failures = {}, {}
    for name in names:
        work_dir = args.work_dir
        if work_dir and len(names) > 1:
            work_dir = osp.join(work_dir, name)
        try:
            results[name] = run_job(name, work_dir, args.data_dir, args.train_options,
                                    from_scratch=args.from_scratch)
        except PhaseError as err:
            failures[name] = str(err)
            print(f'\n!! main job "{name}": {err}', file=sys.stderr, flush=True)
    if len(names) > 1:
        print(f'\n=== all main jobs done in {time.time() - start:.0f} s')
        for name in names:
            if name in failures:
                print(f'   {name:10s} FAILED (see above)')
                continue
            v = results[name]['verdict']
            status = 'reported only' if v['threshold'] is None else (
                'passed' if v['passed'] else 'MISSED')
            print(f'   {name:10s} {results[name]["seconds"]:4.0f} s  {v["metric"]} '
                  f'{v["value"]:6.2f}  {status:13s} {results[name]["gallery"]}')
    missed = [n for n, r in results.items() if not r['verdict']['passed']]
    if missed:
        print(f'threshold missed by: {", ".join(missed)}', file=sys.stderr)
    return 1 if failures or missed else 0


if __name__ == '__main__':
    os.chdir(ROOT)
    sys.exit(main())
