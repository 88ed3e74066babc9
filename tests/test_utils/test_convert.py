# Copyright (c) mmgen_vision contributors. All rights reserved.
import pytest
import torch
from torch import nn

from mmgen_vision.utils.convert import (ConversionError, check_converted_keys, convert_state_dict,
                                        load_official_state_dict, save_converted_checkpoint)
from mmgen_vision.utils.checkpoint import load_local_checkpoint


class Ours(nn.Module):

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(4, 4)
        self.k = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)


def _official():
    qkv = torch.arange(48.0).view(12, 4)
    return {'blocks.qkv.weight': qkv, 'blocks.qkv.bias': torch.arange(12.0),
            'fc.weight': torch.ones(2, 4), 'fc.bias': torch.zeros(2),
            'ema.fc.weight': torch.ones(2, 4)}


def _split_qk(key, value):
    kind = key.rsplit('.', 1)[1]
    q, k, _ = value.chunk(3)
    return {f'q.{kind}': q, f'k.{kind}': k}


RULES = [(r'^blocks\.qkv\.', _split_qk), (r'^fc\.', 'head.')]


def test_convert_renames_splits_drops_and_fits_the_model(tmp_path):
    official = tmp_path / 'official.pth'
    torch.save({'model': _official(), 'epoch': 3}, str(official))
    state = load_official_state_dict(str(official))
    assert list(state)[:2] == ['blocks.qkv.weight', 'blocks.qkv.bias']
    converted = convert_state_dict(state, RULES, drop=[r'^ema\.'])
    assert torch.equal(converted['k.weight'], torch.arange(16.0, 32.0).view(4, 4))
    assert 'head.bias' in converted and not any(k.startswith('ema') for k in converted)
    model = Ours()
    check_converted_keys(converted, model)
    digest = save_converted_checkpoint(converted, str(tmp_path / 'ours.pth'), source=str(official))
    assert len(digest) == 8
    saved = load_local_checkpoint(str(tmp_path / 'ours.pth'))
    model.load_state_dict(saved['state_dict'])
    assert saved['meta']['converted_from'] == 'official.pth'


def test_conversion_errors_name_the_keys(tmp_path):
    with pytest.raises(ConversionError, match="'fc.weight' and 'head.weight' both convert"):
        convert_state_dict({'fc.weight': torch.ones(1), 'head.weight': torch.ones(1)}, RULES)
    converted = convert_state_dict(_official(), RULES)  # ema key kept: unexpected
    with pytest.raises(ConversionError, match=r"unexpected \['ema\.fc\.weight'\]"):
        check_converted_keys(converted, Ours())
    empty = tmp_path / 'empty.pth'
    torch.save({'epoch': 1}, str(empty))
    with pytest.raises(ConversionError, match='holds no tensors'):
        load_official_state_dict(str(empty))
