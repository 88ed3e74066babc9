# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder's image-text contrastive loss on 2 CPU processes (gloo): with the all-gather
with gradients, the ranks' losses average to the single-process loss of the whole batch and
the DDP-averaged gradients equal the single-process gradients."""
import os
import traceback

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import free_port

from mmgen_vision.models.xdecoder.losses import image_text_contrastive_loss

WORLD_SIZE = 2
PER_RANK = 3


def _batch():
    g = torch.Generator().manual_seed(3)
    n = WORLD_SIZE * PER_RANK
    return torch.randn(n, 4, generator=g), torch.randn(n, 4, generator=g)


def _worker(rank: int, port: int, result_dir: str) -> None:
    try:
        torch.set_num_threads(1)
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                world_size=WORLD_SIZE)
        image, text = _batch()
        sl = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
        image = image[sl].clone().requires_grad_(True)
        text = text[sl].clone().requires_grad_(True)
        scale = torch.tensor(1.5, requires_grad=True)
        loss = image_text_contrastive_loss(image, text, scale)
        loss.backward()
        grad_scale = scale.grad.clone()
        dist.all_reduce(grad_scale)  # DDP averages parameter gradients
        out = dict(loss=loss.detach(), image_grad=image.grad / WORLD_SIZE,
                   text_grad=text.grad / WORLD_SIZE, scale_grad=grad_scale / WORLD_SIZE)
        torch.save(out, os.path.join(result_dir, f'rank{rank}.pt'))
        dist.barrier()
        dist.destroy_process_group()
    except Exception:  # noqa: B902 - report to the parent process
        with open(os.path.join(result_dir, f'rank{rank}.err'), 'w') as f:
            f.write(traceback.format_exc())
        raise


def test_distributed_contrastive_matches_single_process(tmp_path):
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip('torch.distributed with gloo is not available')
    try:
        # spawn, not fork: a forked child cannot run backward once the parent's autograd
        # engine has started its threads, which depends on the tests this process ran before
        # (CI, 6 Dec 2026: "Unable to handle autograd's threading in combination with
        # fork-based multiprocessing" under pytest-xdist)
        mp.spawn(_worker, args=(free_port(), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    except Exception as err:  # show the worker traceback
        errors = [p.read_text() for p in sorted(tmp_path.glob('*.err'))]
        pytest.fail(f'distributed workers failed: {err}\n' + '\n'.join(errors))
    results = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(WORLD_SIZE)]
    image, text = _batch()
    image.requires_grad_(True)
    text.requires_grad_(True)
    scale = torch.tensor(1.5, requires_grad=True)
    loss = image_text_contrastive_loss(image, text, scale)
    loss.backward()
    mean = sum(r['loss'] for r in results) / WORLD_SIZE
    torch.testing.assert_close(mean, loss.detach(), atol=1e-6, rtol=1e-6)
    # the image of rank r is scored against the texts of both ranks: gradients of the local
    # rows (DDP-averaged) equal the single-process gradients of those rows
    torch.testing.assert_close(torch.cat([r['image_grad'] for r in results]), image.grad,
                               atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(torch.cat([r['text_grad'] for r in results]), text.grad,
                               atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(results[0]['scale_grad'], scale.grad, atol=1e-6, rtol=1e-5)
