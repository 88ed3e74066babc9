# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter train step with the explicit-attention training path vs SDPA everywhere.

    python tools/analysis_tools/painter_attention_benchmark.py [--pairs 7] [--threads 1] \
        [--num-layers 24] [--embed-dims 768] [--num-heads 12] [--canvas 448 224] [--batch-size 1]

Builds a ViT-B-sized Painter (24 blocks x 768, 12 heads, 448 x 224 canvas by default, random
canvases, AdamW) and times whole train steps (forward, loss, backward, optimizer step) with
the shared attention kernel's per-mode choice (``after``: explicit ``softmax(q k^T + bias) v``
when the relative-position bias needs a gradient on CPU) and with SDPA forced everywhere
(``before``: the bias handed to ``F.scaled_dot_product_attention`` as ``attn_mask``). The two
run interleaved, in alternating order, one pair at a time, so that load on a shared machine
hits both alike; the report is the median of the per-pair ratios after / before.
"""
import argparse
import json
import statistics
import time
from typing import List, Optional

import torch

from mmgen_vision.models.common import attention as attention_module


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', type=int, default=7, help='timed before/after pairs')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps per path')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--num-layers', type=int, default=24)
    parser.add_argument('--embed-dims', type=int, default=768)
    parser.add_argument('--num-heads', type=int, default=12)
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument('--canvas', type=int, nargs=2, default=(448, 224), metavar=('H', 'W'))
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--out', help='write the result as JSON')
    return parser.parse_args(argv)


def build_painter(args: argparse.Namespace):
    from mmgen_vision.registry import MODELS
    from mmgen_vision.utils import register_all_modules
    register_all_modules()
    num_layers = args.num_layers
    return MODELS.build(
        dict(
            type='Painter',
            backbone=dict(
                type='PainterViT', img_size=tuple(args.canvas), patch_size=args.patch_size,
                embed_dims=args.embed_dims, num_layers=num_layers, num_heads=args.num_heads,
                merge_index=2, out_indices=[num_layers // 4 * (i + 1) - 1 for i in range(4)]),
            head=dict(type='PainterHead', in_channels=args.embed_dims, num_taps=4,
                      patch_size=args.patch_size)))


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_painter(args).train()
    b, (h, w) = args.batch_size, args.canvas
    imgs, tgts = torch.randn(b, 3, h, w), torch.randn(b, 3, h, w)
    valid = torch.ones_like(tgts)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    auto_choice = attention_module.use_explicit_path

    def step(path: str) -> float:
        attention_module.use_explicit_path = (
            auto_choice if path == 'after' else lambda q, attn_bias: False)
        try:
            mask = model.mask_generator(b)
            start = time.perf_counter()
            loss = model.forward_train(imgs, tgts, mask, valid)[0]
            opt.zero_grad()
            loss.backward()
            opt.step()
            return time.perf_counter() - start
        finally:
            attention_module.use_explicit_path = auto_choice

    for _ in range(args.warmup):
        step('before')
        step('after')
    times = dict(before=[], after=[])
    ratios = []
    for i in range(args.pairs):
        order = ('before', 'after') if i % 2 == 0 else ('after', 'before')
        pair = {path: step(path) for path in order}
        for path, seconds in pair.items():
            times[path].append(seconds)
        ratios.append(pair['after'] / pair['before'])
        print(f'pair {i}: before {pair["before"]:.3f} s  after {pair["after"]:.3f} s  '
              f'ratio {ratios[-1]:.3f}', flush=True)
    result = dict(
        config=dict(num_layers=args.num_layers, embed_dims=args.embed_dims,
                    num_heads=args.num_heads, canvas=list(args.canvas), batch_size=b,
                    threads=args.threads),
        before_median_s=statistics.median(times['before']),
        after_median_s=statistics.median(times['after']),
        ratio_median=statistics.median(ratios),
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        pairs=args.pairs)
    print(f'train step, median of {args.pairs} pairs: before (SDPA everywhere) '
          f'{result["before_median_s"]:.3f} s, after (explicit when the bias needs a grad) '
          f'{result["after_median_s"]:.3f} s; per-pair ratio after / before: median '
          f'{result["ratio_median"]:.3f} (min {result["ratio_min"]:.3f}, max '
          f'{result["ratio_max"]:.3f})')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
