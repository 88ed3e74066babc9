# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's cross-process all-gather with gradients, on 2 CPU processes (gloo): the gathered
features are every rank's, gradients reach the local features, and the distributed losses
equal the single-process losses on the concatenated batch."""
import os
import traceback

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from conftest import free_port

from mmgen_vision.models.groupvit import GroupViT, all_gather_with_grad

WORLD_SIZE = 2
TINY = dict(
    image_encoder=dict(img_size=16, patch_size=4, embed_dims=16, depths=(1, 1), num_heads=2,
                       num_group_tokens=(4, 0), num_output_groups=(2, ), drop_path_rate=0.),
    text_encoder=dict(context_length=8, vocab_size=64, width=16, layers=1),
    output_dim=8, proj_hidden_channels=16, multi_label=2)


def _features(rank: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(100 + rank)
    return torch.randn(3, 5, generator=g)


def _worker(rank: int, port: int, result_dir: str) -> None:
    try:
        torch.set_num_threads(1)
        dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                world_size=WORLD_SIZE)
        out = {}
        # 1. the gather itself: order, values and gradients to the local rows only
        local = _features(rank).requires_grad_(True)
        gathered = all_gather_with_grad(local)
        out['gathered'] = gathered.detach().clone()
        weights = torch.arange(gathered.numel(), dtype=torch.float).reshape(gathered.shape)
        (gathered * weights).sum().backward()
        out['grad'] = local.grad.clone()
        # 2. the losses: rank r holds samples [2r, 2r + 2) of one global batch
        torch.manual_seed(0)
        # eval: batch norm without batch statistics; float64 so that the comparison is exact
        model = GroupViT(**TINY).double().eval()
        g = torch.Generator().manual_seed(7)
        images = torch.randn(4, 3, 16, 16, generator=g, dtype=torch.float64)
        texts = torch.randint(1, 64, (4, 3, 8), generator=g)
        sl = slice(2 * rank, 2 * rank + 2)
        losses = model(images[sl], texts[sl], mode='loss')
        sum(losses.values()).backward()
        out['losses'] = {k: v.detach() for k, v in losses.items()}
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        for grad in grads.values():  # DDP averages the gradients of the ranks
            dist.all_reduce(grad)
            grad /= WORLD_SIZE
        out['grads'] = grads
        torch.save(out, os.path.join(result_dir, f'rank{rank}.pt'))
        dist.barrier()
        dist.destroy_process_group()
    except Exception:  # noqa: B902 - report to the parent process
        with open(os.path.join(result_dir, f'rank{rank}.err'), 'w') as f:
            f.write(traceback.format_exc())
        raise


@pytest.fixture(scope='module')
def dist_results(tmp_path_factory):
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip('torch.distributed with gloo is not available')
    result_dir = str(tmp_path_factory.mktemp('groupvit_dist'))
    try:
        mp.spawn(_worker, args=(free_port(), result_dir), nprocs=WORLD_SIZE, join=True)
    except Exception as err:  # show the worker traceback
        errors = [open(os.path.join(result_dir, f)).read() for f in sorted(os.listdir(result_dir))
                  if f.endswith('.err')]
        pytest.fail(f'distributed workers failed: {err}\n' + '\n'.join(errors))
    return [torch.load(os.path.join(result_dir, f'rank{r}.pt'), weights_only=True)
            for r in range(WORLD_SIZE)]


def test_gather_values_and_order(dist_results):
    expected = torch.cat([_features(r) for r in range(WORLD_SIZE)])
    for res in dist_results:
        torch.testing.assert_close(res['gathered'], expected)


def test_gradients_reach_local_features(dist_results):
    # d/d local of sum_r sum(gathered_r * W): autograd.all_gather sums the gradient of every
    # rank's copy of the gathered tensor into the rows each rank contributed
    numel = 3 * 5
    weights = torch.arange(WORLD_SIZE * numel, dtype=torch.float).reshape(WORLD_SIZE * 3, 5)
    for rank, res in enumerate(dist_results):
        expected = WORLD_SIZE * weights[3 * rank:3 * rank + 3]
        torch.testing.assert_close(res['grad'], expected)
        assert res['grad'].abs().sum() > 0


def test_distributed_loss_matches_single_process(dist_results):
    torch.manual_seed(0)
    model = GroupViT(**TINY).double().eval()
    g = torch.Generator().manual_seed(7)
    images = torch.randn(4, 3, 16, 16, generator=g, dtype=torch.float64)
    texts = torch.randint(1, 64, (4, 3, 8), generator=g)
    losses = model(images, texts, mode='loss')
    sum(losses.values()).backward()
    for key, value in losses.items():
        # every rank's loss is the mean over its own rows: their average is the global mean
        mean = sum(res['losses'][key] for res in dist_results) / WORLD_SIZE
        torch.testing.assert_close(mean, value.detach(), atol=1e-10, rtol=1e-10)
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        for res in dist_results:
            torch.testing.assert_close(res['grads'][name], param.grad, atol=1e-9, rtol=1e-7,
                                       msg=lambda m, n=name: f'{n}: {m}')
