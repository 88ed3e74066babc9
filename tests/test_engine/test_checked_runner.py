# Copyright (c) mmgen_vision contributors. All rights reserved.
import pytest
import torch
from torch import nn

from mmgen_vision.engine import CPUAmpOptimWrapper, CheckpointMismatchError
from mmgen_vision.engine.runner import check_state_dict_matches


def _net(width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, width, 3), nn.BatchNorm2d(width), nn.Conv2d(width, 2, 1))


def test_matching_and_partial_checkpoints_pass():
    model = _net()
    check_state_dict_matches(model, model.state_dict(), 'same.pth', strict=True)
    partial = {k: v for k, v in model.state_dict().items() if k.startswith('0.')}
    check_state_dict_matches(model, partial, 'backbone-only.pth')  # pre-trained part: fine
    wrapped = {f'module.{k}': v for k, v in model.state_dict().items()}
    check_state_dict_matches(model, wrapped, 'ddp.pth', revise_keys=[(r'^module\.', '')],
                             strict=True)


def test_checkpoint_of_another_architecture_is_refused():
    model = _net()
    other = nn.Linear(3, 3).state_dict()
    with pytest.raises(CheckpointMismatchError, match=r'other\.pth.*none of its 2 keys'):
        check_state_dict_matches(model, other, 'other.pth')


def test_checkpoint_of_another_size_is_refused():
    with pytest.raises(CheckpointMismatchError, match=r'wide\.pth.*0\.weight: checkpoint'):
        check_state_dict_matches(_net(4), _net(8).state_dict(), 'wide.pth')


def test_strict_refuses_missing_keys():
    model = _net()
    partial = {k: v for k, v in model.state_dict().items() if k.startswith('0.')}
    with pytest.raises(CheckpointMismatchError, match=r'missing \[1\.weight'):
        check_state_dict_matches(model, partial, 'p.pth', strict=True)


def test_cpu_amp_optim_wrapper_autocasts_and_trains():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.05))
    x = torch.randn(64, 8)
    y = x.sum(dim=1, keepdim=True)
    losses = []
    for _ in range(60):
        with wrapper.optim_context(model):
            pred = model(x)
            assert pred.dtype == torch.bfloat16
            loss = ((pred.float() - y)**2).mean()
        wrapper.update_params(loss)
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    with pytest.raises(ValueError, match='dtype'):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), dtype='int8')
