# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Benchmark Painter: training throughput, in-context latency with / without the prompt cache,
peak memory.

    python tools/analysis_tools/benchmark_painter.py CONFIG [--batch-size 8] [--iters 10] \
        [--queries 16] [--device cpu] [--out bench.json]

Inputs are random canvases of the config's size (no data needed). The prompt cache needs a
backbone with ``prompt_isolation``: the script builds the model with it switched on for BOTH
inference timings (same compute graph, so the comparison is fair); the released model
(``prompt_isolation=False``) cannot use the cache. Peak memory is the CUDA allocator peak on a
GPU and the process' peak RSS on CPU (libraries included).
"""
import argparse
import json
import resource
import sys
import time
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope


def peak_memory_mb(device: str) -> float:
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    scale = 1 if sys.platform == 'darwin' else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def build_model(cfg: Config, prompt_isolation: bool, device: str):
    import mmgen_vision.models  # noqa: F401
    from mmgen_vision.registry import MODELS
    model_cfg = dict(cfg.model)
    model_cfg['init_cfg'] = None
    model_cfg['backbone'] = dict(model_cfg['backbone'], prompt_isolation=prompt_isolation)
    return MODELS.build(model_cfg).to(device)


def bench_train(model, batch_size: int, iters: int, device: str, amp: bool) -> dict:
    h, w = model.backbone.img_size
    imgs = torch.randn(batch_size, 3, h, w, device=device)
    tgts = torch.randn(batch_size, 3, h, w, device=device)
    valid = torch.ones_like(tgts)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()

    def step():
        mask = model.mask_generator(batch_size).to(device)
        with torch.autocast(device.split(':')[0], enabled=amp,
                            dtype=torch.float16 if device.startswith('cuda') else torch.bfloat16):
            loss = model.forward_train(imgs, tgts, mask, valid)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        step()
    sync(device)
    elapsed = time.perf_counter() - start
    return dict(train_img_per_s=batch_size * iters / elapsed,
                train_iter_s=elapsed / iters)


@torch.no_grad()
def bench_inference(model, queries: int, batch_size: int, device: str) -> dict:
    model.eval()
    h, w = model.backbone.img_size
    imgs = torch.randn(queries, 3, h, w, device=device)
    tgts = torch.randn(queries, 3, h, w, device=device)
    imgs[:, :, :h // 2] = imgs[:1, :, :h // 2]  # one prompt for every query
    tgts[:, :, :h // 2] = tgts[:1, :, :h // 2]
    out = {}
    for name, cache in (('uncached', False), ('cached', True)):
        model.reset_prompt_cache()
        model.predict_canvas(imgs[:batch_size], tgts[:batch_size], use_cache=cache)  # warm-up
        model.reset_prompt_cache()
        sync(device)
        start = time.perf_counter()
        for s in range(0, queries, batch_size):
            model.predict_canvas(imgs[s:s + batch_size], tgts[s:s + batch_size], use_cache=cache)
        sync(device)
        out[f'latency_ms_per_query_{name}'] = 1000 * (time.perf_counter() - start) / queries
    ref = model.predict_canvas(imgs[:batch_size], tgts[:batch_size], use_cache=False)
    model.reset_prompt_cache()
    got = model.predict_canvas(imgs[:batch_size], tgts[:batch_size], use_cache=True)
    out['cache_max_abs_diff'] = (ref - got).abs().max().item()
    out['cache_speedup'] = out['latency_ms_per_query_uncached'] / out[
        'latency_ms_per_query_cached']
    return out


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--queries', type=int, default=16)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', action='store_true', help='autocast the training step')
    parser.add_argument('--out', default=None, help='write the results as json')
    args = parser.parse_args(argv)
    init_default_scope('mmgen_vision')
    cfg = Config.fromfile(args.config)
    torch.manual_seed(0)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    model = build_model(cfg, prompt_isolation=True, device=args.device)
    result = dict(config=args.config, device=args.device, batch_size=args.batch_size,
                  canvas=list(model.backbone.img_size),
                  params_m=sum(p.numel() for p in model.parameters()) / 1e6,
                  threads=torch.get_num_threads())
    result.update(bench_train(model, args.batch_size, args.iters, args.device, args.amp))
    result['train_peak_memory_mb'] = peak_memory_mb(args.device)
    result.update(bench_inference(model, args.queries, args.batch_size, args.device))
    print('| metric | value |\n|---|---|')
    for k, v in result.items():
        print(f'| {k} | {v:.4g} |' if isinstance(v, float) else f'| {k} | {v} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
