# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Speed and peak memory of Peekaboo's per-image optimisation over a sweep of settings.

    python tools/analysis_tools/benchmark_peekaboo.py CONFIG [--random-sd DIR]
        [--random-sd-arch {tiny,sd-v1}]
        [--source {synthetic,dataset}] [--images-per-batch 1 2 4] [--num-backgrounds 1 4]
        [--num-captions 1 5] [--mask-size 64] [--image-size 512] [--max-guide-batch none 1]
        [--compare-batching] [--num-iters 10] [--warmup-iters 2] [--repeat 1]
        [--statistic {median,min}] [--threads N]
        [--half | --no-half] [--device {cpu,cuda}] [--cfg-options k=v ...]
        [--out-json result.json] [--out-md result.md]

A :class:`PeekabooSegmentor` is built from the config once; every combination of the swept
values (images per batch ``B``, backgrounds ``n_b``, captions ``k``, mask size, composite size,
``max_guide_batch``) is then timed on ``model.predict``: a warm-up call with
``--warmup-iters`` iterations at the same shapes (kernel selection, lazy fp16 conversion, text
embeddings cached), then ``--repeat`` timed calls of ``--num-iters`` iterations. Reported per
setting: seconds per image (median, or with ``--statistic min`` the best, wall time of a call
over ``--repeat`` calls, divided by ``B``), seconds per iteration, the
number of composites and of UNet calls per iteration and the peak memory of the timed calls.

* ``--random-sd DIR`` (alias ``--tiny-sd``) points ``model.guide.pretrained_path`` at ``DIR``
  and first writes a randomly initialised Stable Diffusion there unless it already holds one,
  so the script runs without the real weights: ``--random-sd-arch tiny`` (default,
  ``build_tiny_stable_diffusion``: timings of the plumbing) or ``sd-v1`` (the full SD 1.x
  architecture, ``build_sd_v1_architecture``, ~4.3 GB: the cost of SD v1.4 itself, since time
  and memory do not depend on the weights' values).
* ``--num-captions k`` switches the model to semantic mode with ``k`` synthetic prompts (plus a
  background label that is not prompted); without it the config's prompts are used (referring
  configs get one synthetic expression per image in synthetic mode).
* ``--source dataset`` takes the first ``B`` samples of the config's test set through its
  pipeline and data preprocessor; ``synthetic`` (default) draws seeded random scenes of
  ``--input-size`` pixels.
* ``--max-guide-batch``: ``none`` scores all ``B * n_b * k`` composites in one VAE + UNet call
  (the default of the segmentor); an integer splits them into chunks of at most that many
  (memory knob). ``--compare-batching`` adds ``1`` (one call per composite) to the sweep, which
  quantifies what batching the backgrounds and captions buys.
* Memory: on CUDA ``torch.cuda.max_memory_allocated`` during the timed calls (absolute, and its
  growth over the memory allocated before them, i.e. without the frozen weights). On CPU the
  resident set size sampled every ``--mem-interval`` seconds by a background thread (``psutil``
  when installed, else ``/proc/self/statm``); its peak growth over the RSS right before the call,
  after handing freed heap back to the OS (glibc ``malloc_trim``), approximates the working
  memory of the optimisation.
"""
import argparse
import ctypes
import itertools
import json
import os
import os.path as osp
import statistics
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import DictAction

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.registry import DATASETS, MODELS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    benchmark_environment, load_config, register_all_modules)

# Prompts of --num-captions (cycled, numbered beyond the list).
CAPTION_WORDS = ('cat', 'dog', 'bird', 'car', 'person', 'chair', 'bottle', 'horse', 'boat',
                 'train', 'sheep', 'cow', 'bus', 'sofa', 'bicycle', 'aeroplane', 'motorbike',
                 'dining table', 'potted plant', 'tv monitor')
REFERRING_TEXT = 'the object in the middle'
MIB = 2.0**20


# ---------------------------------------------------------------------------- arguments
def _guide_batch(value: str) -> Optional[int]:
    """``'none'`` (one call) or a positive integer."""
    if value.lower() in ('none', 'all', '0'):
        return None
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f'max guide batch must be >= 1 or none, got {value}')
    return number


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the speed and peak memory of Peekaboo over a sweep of settings')
    parser.add_argument('config', help='Peekaboo config file path')
    parser.add_argument(
        '--random-sd',
        '--tiny-sd',
        dest='random_sd',
        metavar='DIR',
        help='use (and first create, if needed) a randomly initialised Stable Diffusion in DIR')
    parser.add_argument(
        '--random-sd-arch',
        choices=['tiny', 'sd-v1'],
        default='tiny',
        help='architecture written to --random-sd DIR when it holds none: a tiny model '
        '(default) or the full Stable Diffusion 1.x architecture')
    parser.add_argument('--source', choices=['synthetic', 'dataset'], default='synthetic',
                        help='images: seeded random scenes or the config\'s test set')
    parser.add_argument('--input-size', type=int, default=None,
                        help='side of the synthetic images (default: the composite size)')
    parser.add_argument('--images-per-batch', type=int, nargs='+', default=[1],
                        help='B, images optimised together in one predict call')
    parser.add_argument('--num-backgrounds', type=int, nargs='+', default=None,
                        help='n_b, random backgrounds per step (default: the config)')
    parser.add_argument('--num-captions', type=int, nargs='+', default=None,
                        help='k, synthetic prompts per image in semantic mode '
                        '(default: the config\'s prompts)')
    parser.add_argument('--mask-size', type=int, nargs='+', default=None,
                        help='alpha resolution (default: the config)')
    parser.add_argument('--image-size', type=int, nargs='+', default=None,
                        help='composite resolution given to the guide (default: the config)')
    parser.add_argument('--max-guide-batch', type=_guide_batch, nargs='+', default=[None],
                        help='composites per guide call: none (all in one call) or integers')
    parser.add_argument('--compare-batching', action='store_true',
                        help='also run every setting with one guide call per composite')
    parser.add_argument('--num-iters', type=int, default=None,
                        help='optimisation iterations per timed call (default: the config)')
    parser.add_argument('--warmup-iters', type=int, default=2,
                        help='iterations of the untimed warm-up call per setting (0: none)')
    parser.add_argument('--repeat', type=int, default=1, help='timed calls per setting')
    parser.add_argument('--statistic', choices=['median', 'min'], default='median',
                        help='wall time of a setting over its --repeat calls (min: best of, '
                        'robust to other processes sharing the CPU)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s choice)')
    parser.add_argument('--half', action=argparse.BooleanOptionalAction, default=None,
                        help='frozen networks in float16 (CUDA only; default: the config)')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run on (default: cuda when available)')
    parser.add_argument('--mem-interval', type=float, default=0.002,
                        help='CPU memory sampling period in seconds')
    parser.add_argument('--seed', type=int, default=0, help='seed of the synthetic images')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    parser.add_argument('--out-json', help='write the measurements as JSON to this file')
    parser.add_argument('--out-md', help='write the measurements as a Markdown table here')
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    if args.repeat < 1 or args.warmup_iters < 0:
        parser.error('--repeat must be >= 1 and --warmup-iters >= 0')
    if args.num_iters is not None and args.num_iters < 1:
        parser.error('--num-iters must be >= 1')
    for name in ('images_per_batch', 'num_backgrounds', 'num_captions', 'mask_size',
                 'image_size'):
        values = getattr(args, name)
        if values is not None and min(values) < 1:
            parser.error(f'--{name.replace("_", "-")} values must be >= 1')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but CUDA is not available')
    if args.compare_batching and 1 not in args.max_guide_batch:
        args.max_guide_batch = list(args.max_guide_batch) + [1]
    return args


# ---------------------------------------------------------------------------- environment
def environment(device: str) -> dict:
    """:func:`benchmark_environment` plus the diffusers version."""
    env = benchmark_environment(device)
    import diffusers
    env['diffusers'] = diffusers.__version__
    return env


# ---------------------------------------------------------------------------- memory
def _rss_reader() -> Tuple[Optional[Callable[[], int]], str]:
    """A function returning the current resident set size in bytes, and its source."""
    try:
        import psutil
        process = psutil.Process()
        return (lambda: process.memory_info().rss), 'psutil'
    except ImportError:
        pass
    if osp.isfile('/proc/self/statm'):
        page = os.sysconf('SC_PAGE_SIZE')

        def read() -> int:
            with open('/proc/self/statm') as f:
                return int(f.read().split()[1]) * page

        return read, '/proc/self/statm'
    return None, 'unavailable'


def _trim_heap() -> None:
    """Give freed heap memory back to the OS (glibc only), so RSS growth means new memory."""
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class MemoryMeter:
    """Peak memory of a block of code: CUDA allocator statistics or sampled CPU RSS.

    Args:
        device (str): ``'cuda'`` or ``'cpu'``.
        interval (float): CPU sampling period in seconds.
    """

    def __init__(self, device: str, interval: float = 0.002) -> None:
        self.device = device
        self.interval = interval
        self.read_rss, self.cpu_source = _rss_reader()
        self.source = 'torch.cuda.max_memory_allocated' if device == 'cuda' else \
            f'peak RSS ({self.cpu_source})'
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.base = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read_rss())
            time.sleep(self.interval)

    def __enter__(self) -> 'MemoryMeter':
        if self.device == 'cuda':
            torch.cuda.synchronize()
            self.base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        elif self.read_rss is not None:
            _trim_heap()
            self.base = self.peak = self.read_rss()
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        elif self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.read_rss())

    def result(self) -> Dict[str, Optional[float]]:
        """``peak_mem_mib`` (absolute) and ``peak_mem_growth_mib`` (over the start)."""
        if self.device != 'cuda' and self.read_rss is None:
            return dict(peak_mem_mib=None, peak_mem_growth_mib=None)
        return dict(
            peak_mem_mib=round(self.peak / MIB, 1),
            peak_mem_growth_mib=round(max(self.peak - self.base, 0) / MIB, 1))


# ---------------------------------------------------------------------------- model & data
def build_model(args: argparse.Namespace):
    """The segmentor of the config on ``args.device`` (tiny SD and precision applied)."""
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    if cfg.model.get('type') not in ('PeekabooSegmentor', 'mmgen_vision.PeekabooSegmentor'):
        raise ValueError(f'{args.config} is not a PeekabooSegmentor config '
                         f'(model.type={cfg.model.get("type")!r})')
    if args.random_sd is not None:
        if not osp.isfile(osp.join(args.random_sd, 'model_index.json')):
            from mmgen_vision import testing
            if args.random_sd_arch == 'sd-v1':
                testing.build_sd_v1_architecture(args.random_sd)
            else:
                testing.build_tiny_stable_diffusion(args.random_sd)
        cfg.model.guide.pretrained_path = args.random_sd
    if args.half is not None:
        cfg.model.guide.half_precision = args.half
    cfg.model.show_progress = False
    cfg.model.evolution_dir = None
    model = MODELS.build(cfg.model)
    model.to(args.device)
    model.eval()
    return cfg, model


def synthetic_images(num: int, size: int, seed: int) -> torch.Tensor:
    """Seeded scenes ``(num, 3, size, size)`` in ``[0, 1]``: a smooth random backdrop with
    a disk and a box of random colours."""
    g = torch.Generator().manual_seed(seed)
    backdrop = F.interpolate(torch.rand(num, 3, 4, 4, generator=g), size=(size, size),
                             mode='bilinear', align_corners=False)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size),
                            indexing='ij')
    images = []
    for i in range(num):
        cx, cy, r, x0, y0 = (0.2 + 0.6 * torch.rand(5, generator=g)).tolist()
        disk = ((xs - cx)**2 + (ys - cy)**2 < (0.25 * r)**2).float()
        box = ((xs - x0).abs() < 0.15) & ((ys - y0).abs() < 0.1)
        img = backdrop[i]
        for mask, colour in ((disk, torch.rand(3, 1, 1, generator=g)),
                             (box.float(), torch.rand(3, 1, 1, generator=g))):
            img = img * (1 - mask) + colour * mask
        images.append(img)
    return torch.stack(images).clamp(0, 1)


class BatchSource:
    """Inputs and data samples of ``B`` images for ``model.predict``.

    Args:
        args (argparse.Namespace): ``source``, ``input_size``, ``seed``, ``device``.
        cfg (Config): The loaded config (test set for ``--source dataset``).
        model (PeekabooSegmentor): For its data preprocessor and mode.
    """

    def __init__(self, args: argparse.Namespace, cfg, model) -> None:
        self.args = args
        self.cfg = cfg
        self.model = model
        self._dataset = None

    def __call__(self, num: int, size: int) -> Tuple[torch.Tensor, list]:
        from mmseg.structures import SegDataSample
        if self.args.source == 'dataset':
            return self._from_dataset(num)
        side = self.args.input_size or size
        inputs = synthetic_images(num, side, self.args.seed).to(self.args.device)
        samples = []
        for _ in range(num):
            meta = dict(img_shape=(side, side), ori_shape=(side, side))
            if self.model.mode == 'referring':
                meta['text'] = REFERRING_TEXT
            samples.append(SegDataSample(metainfo=meta))
        return inputs, samples

    def _from_dataset(self, num: int) -> Tuple[torch.Tensor, list]:
        from mmengine.dataset import pseudo_collate
        if self._dataset is None:
            self._dataset = DATASETS.build(self.cfg.test_dataloader.dataset)
        if len(self._dataset) == 0:
            raise RuntimeError('the test set of the config is empty')
        items = [self._dataset[i % len(self._dataset)] for i in range(num)]
        data = self.model.data_preprocessor(pseudo_collate(items), False)
        return data['inputs'], data['data_samples']


def set_captions(model, num_captions: Optional[int], default: dict) -> int:
    """Make the model prompt ``num_captions`` synthetic captions (semantic mode), or restore
    the config's prompts; returns ``k``."""
    if num_captions is None:
        for key, value in default.items():
            setattr(model, key, value)
        if model.mode == 'referring':
            return 1
        names = model.class_names
        return len(names) - (model.background_index is not None)
    words = [CAPTION_WORDS[i % len(CAPTION_WORDS)] +
             (f' {i // len(CAPTION_WORDS)}' if i >= len(CAPTION_WORDS) else '')
             for i in range(num_captions)]
    model.mode = 'semantic'
    model.class_names = ['background'] + words
    model.background_index = 0
    return num_captions


class CallCounter:
    """Counts the guide's denoiser calls (one per guide chunk, CFG branches batched)."""

    def __init__(self, guide) -> None:
        self.guide = guide
        self.count = 0
        self._orig = guide.predict_noise

        def counted(*args, **kwargs):
            self.count += 1
            return self._orig(*args, **kwargs)

        guide.predict_noise = counted

    def remove(self) -> None:
        del self.guide.predict_noise  # back to the class method


# ---------------------------------------------------------------------------- benchmark
def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def run_setting(model, source: BatchSource, setting: dict, args: argparse.Namespace,
                defaults: dict) -> dict:
    """Time ``model.predict`` for one setting; returns the result row."""
    model.num_backgrounds = setting['num_backgrounds']
    model.mask_size = setting['mask_size']
    model.image_size = setting['image_size']
    model.max_guide_batch = setting['max_guide_batch']
    k = set_captions(model, setting['num_captions'], defaults['captions'])
    b = setting['images_per_batch']
    num_iters = setting['num_iters']
    inputs, samples = source(b, setting['image_size'])
    if args.warmup_iters > 0:
        model.num_iters = args.warmup_iters
        model.predict(inputs, samples)
        _sync(args.device)
    model.num_iters = num_iters
    counter = CallCounter(model.guide)
    walls, peaks, growths = [], [], []
    meter = MemoryMeter(args.device, args.mem_interval)
    try:
        for _ in range(args.repeat):
            with meter:
                start = time.perf_counter()
                model.predict(inputs, samples)
                _sync(args.device)
                walls.append(time.perf_counter() - start)
            mem = meter.result()
            peaks.append(mem['peak_mem_mib'])
            growths.append(mem['peak_mem_growth_mib'])
    finally:
        counter.remove()
    wall = statistics.median(walls) if args.statistic == 'median' else min(walls)
    composites = b * setting['num_backgrounds'] * k
    guide_batch = setting['max_guide_batch']
    row = dict(setting)
    row.update(
        num_captions=k,
        precision=str(getattr(model.guide, 'dtype', torch.float32)).replace('torch.', ''),
        composites_per_iter=composites,
        unet_calls_per_iter=round(counter.count / (args.repeat * num_iters), 2),
        expected_unet_calls_per_iter=-(-composites // (guide_batch or composites)),
        wall_s=[round(w, 4) for w in walls],
        seconds_per_image=round(wall / b, 4),
        seconds_per_iter=round(wall / num_iters, 4),
        peak_mem_mib=max(peaks) if None not in peaks else None,
        peak_mem_growth_mib=max(growths) if None not in growths else None)
    return row


def settings(args: argparse.Namespace, model) -> List[dict]:
    """The cartesian product of the swept values (config values where not given)."""
    num_iters = args.num_iters or model.num_iters
    grid = itertools.product(
        args.images_per_batch,
        args.num_backgrounds or [model.num_backgrounds],
        args.num_captions or [None],
        args.mask_size or [model.mask_size],
        args.image_size or [model.image_size],
        args.max_guide_batch,
    )
    return [
        dict(images_per_batch=b, num_backgrounds=nb, num_captions=k, mask_size=ms,
             image_size=im, max_guide_batch=mb, num_iters=num_iters)
        for b, nb, k, ms, im, mb in grid
    ]


def add_relative_times(rows: List[dict]) -> None:
    """``time_vs_one_call``: seconds per image relative to the same setting with one guide
    call (``max_guide_batch`` none), when the sweep has it."""
    def key(row):
        return tuple((k, row[k]) for k in ('images_per_batch', 'num_backgrounds', 'num_captions',
                                           'mask_size', 'image_size'))

    one_call = {key(r): r['seconds_per_image'] for r in rows if r['max_guide_batch'] is None}
    for row in rows:
        ref = one_call.get(key(row))
        row['time_vs_one_call'] = round(row['seconds_per_image'] / ref, 2) if ref else None


def random_sd_note(result: dict) -> str:
    """`` (random-weight SD: <architecture>)`` when the guide was a random pipeline."""
    if not result['random_sd']:
        return ''
    return f' (random-weight SD, architecture {result["random_sd_arch"]})'


def markdown(result: dict) -> str:
    """The rows as a Markdown table with a line on the environment."""
    env = result['environment']
    lines = [
        f'Peekaboo benchmark of `{osp.basename(result["config"])}`'
        f'{random_sd_note(result)} on {env["device_name"]} '
        f'({env["device"]}, {env["cpu_count"]} CPU cores, torch {env["torch"]}); '
        f'{env["torch_threads"]} torch thread(s); {result["num_iters"]} iterations per call, '
        f'{result["statistic"]} of {result["repeat"]} call(s); '
        f'memory: {result["memory_source"]}.', '',
        '| B | n_b | k | mask | image | guide batch | precision | composites / iter | '
        'UNet calls / iter | s / image | s / iter | time vs one call | peak mem (MiB) | '
        'peak growth (MiB) |',
        '| ' + ' | '.join(['---'] * 14) + ' |',
    ]

    def fmt(value, spec='') -> str:
        if value is None:
            return '-'
        return format(value, spec)

    for r in result['results']:
        lines.append('| ' + ' | '.join([
            str(r['images_per_batch']), str(r['num_backgrounds']), str(r['num_captions']),
            str(r['mask_size']), str(r['image_size']),
            'all' if r['max_guide_batch'] is None else str(r['max_guide_batch']),
            r['precision'], str(r['composites_per_iter']), fmt(r['unet_calls_per_iter'], 'g'),
            fmt(r['seconds_per_image'], '.3f'), fmt(r['seconds_per_iter'], '.3f'),
            fmt(r['time_vs_one_call'], '.2f'), fmt(r['peak_mem_mib'], '.1f'),
            fmt(r['peak_mem_growth_mib'], '.1f')
        ]) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cfg, model = build_model(args)
    defaults = dict(captions=dict(mode=model.mode, class_names=model.class_names,
                                  background_index=model.background_index))
    source = BatchSource(args, cfg, model)
    rows = []
    for setting in settings(args, model):
        row = run_setting(model, source, setting, args, defaults)
        rows.append(row)
        print(f'B={row["images_per_batch"]} n_b={row["num_backgrounds"]} '
              f'k={row["num_captions"]} mask={row["mask_size"]} image={row["image_size"]} '
              f'guide_batch={row["max_guide_batch"] or "all"} {row["precision"]}: '
              f'{row["seconds_per_image"]:.3f} s/image, {row["seconds_per_iter"]:.3f} s/iter, '
              f'peak {row["peak_mem_mib"]} MiB (+{row["peak_mem_growth_mib"]})', flush=True)
    add_relative_times(rows)
    result = dict(
        config=args.config,
        random_sd=args.random_sd,
        random_sd_arch=args.random_sd_arch if args.random_sd else None,
        source=args.source,
        num_iters=rows[0]['num_iters'] if rows else None,
        warmup_iters=args.warmup_iters,
        repeat=args.repeat,
        statistic=args.statistic,
        memory_source=MemoryMeter(args.device).source,
        environment=environment(args.device),
        results=rows)
    for path, text in ((args.out_json, json.dumps(result, indent=2)),
                       (args.out_md, markdown(result) if args.out_md else None)):
        if path:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            with open(path, 'w') as f:
                f.write(text)
    if not args.out_md:
        print(markdown(result))
    return result


if __name__ == '__main__':
    main()
