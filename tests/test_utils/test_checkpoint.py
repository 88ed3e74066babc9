# Copyright (c) mmgen_vision contributors. All rights reserved.
import collections
import os
import os.path as osp
import pickle
import traceback

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from mmgen_vision.utils import (CheckpointError, UnsafeCheckpointError, checkpoint_safe_globals,
                                load_local_checkpoint)
from mmgen_vision.utils.checkpoint import history_buffer_statistic


class NotAllowed:
    """A class no checkpoint should be able to make us instantiate."""

    def __init__(self):
        self.payload = 'arbitrary code path'


def _mmengine_like_checkpoint() -> dict:
    buffer = HistoryBuffer()
    for value in (1.5, 0.5, 0.25):
        buffer.update(value)
    return dict(
        meta=dict(
            epoch=0, iter=4, seed=np.int64(7), dataset_meta=ConfigDict(classes=('a', 'b')),
            mmengine_version='0.10.7'),
        state_dict=collections.OrderedDict(w=torch.arange(4.0)),
        message_hub=dict(
            log_scalars={'train/loss': buffer},
            runtime_info=dict(iter=4, max_iters=8, lr=np.float32(0.1), arr=np.ones((2, 2))),
            resumed_keys=dict(iter=True)),
        optimizer=dict(state={0: dict(step=torch.tensor(4.0))}, param_groups=[dict(lr=0.1)]),
    )


def test_allow_list_is_exactly_mmengine_types():
    names = {getattr(obj, '__name__', '') for obj in checkpoint_safe_globals()}
    names |= {item[1] for item in checkpoint_safe_globals() if isinstance(item, tuple)}
    assert {'HistoryBuffer', 'ConfigDict', 'ndarray', 'dtype', '_reconstruct',
            'builtins.getattr'} <= names
    assert 'NotAllowed' not in names and 'Runner' not in names


def test_mmengine_checkpoint_round_trips_with_weights_only(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    # the stock torch.load (weights_only=True since torch 2.6) refuses it ...
    with pytest.raises(Exception, match='HistoryBuffer|weights_only|Unsupported global'):
        torch.load(path)
    # ... our loader, and MMEngine's _load_checkpoint routed through it, accept it
    for ckpt in (load_local_checkpoint(path), _load_checkpoint(path, map_location='cpu')):
        buffer = ckpt['message_hub']['log_scalars']['train/loss']
        assert isinstance(buffer, HistoryBuffer)
        assert buffer.current() == 0.25 and buffer.mean() == pytest.approx(0.75)
        assert ckpt['meta']['seed'] == 7 and isinstance(ckpt['meta']['seed'], np.integer)
        assert ckpt['meta']['dataset_meta'].classes == ('a', 'b')
        np.testing.assert_array_equal(ckpt['message_hub']['runtime_info']['arr'], np.ones((2, 2)))
        assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))


def test_checkpoint_with_other_objects_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, extra=NotAllowed()), path)
    with pytest.raises(UnsafeCheckpointError) as info:
        _load_checkpoint(path, map_location='cpu')
    message = str(info.value)
    assert path in message
    assert 'NotAllowed' in message  # names the offending global


def test_getattr_stand_in_resolves_only_history_buffer_statistics(monkeypatch):
    # a fresh process has an empty statistics table until its first HistoryBuffer()
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    for name in ('min', 'max', 'current', 'mean'):
        assert history_buffer_statistic(HistoryBuffer, name) is getattr(HistoryBuffer, name)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        history_buffer_statistic(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        history_buffer_statistic(os, 'system')


def test_checkpoint_calling_getattr_on_other_objects_is_refused(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(state_dict={}, hook=os.getcwd), path)  # pickles as getattr-free global
    with pytest.raises(UnsafeCheckpointError, match='getcwd'):
        load_local_checkpoint(path)


def test_file_backend_checkpoints_load_safely(tmp_path, monkeypatch):
    from mmengine import fileio
    path = str(tmp_path / 'remote.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    with open(path, 'rb') as f:
        payload = f.read()
    monkeypatch.setattr(fileio, 'get', lambda uri, **kwargs: payload)
    ckpt = _load_checkpoint('s3://bucket/remote.pth', map_location='cpu')
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    torch.save(dict(extra=NotAllowed()), path)
    with open(path, 'rb') as f:
        payload = f.read()
    with pytest.raises(UnsafeCheckpointError, match=r's3://bucket/remote\.pth.*NotAllowed'):
        _load_checkpoint('s3://bucket/remote.pth', map_location='cpu')


def test_truncated_and_missing_checkpoints_name_the_file(tmp_path):
    good = str(tmp_path / 'good.pth')
    torch.save(dict(state_dict=dict(w=torch.ones(1000))), good)
    truncated = str(tmp_path / 'truncated.pth')
    with open(good, 'rb') as src, open(truncated, 'wb') as dst:
        dst.write(src.read()[:300])
    with pytest.raises(CheckpointError, match=r'truncated\.pth'):
        load_local_checkpoint(truncated)
    with pytest.raises(FileNotFoundError, match=r'missing\.pth'):
        load_local_checkpoint(osp.join(str(tmp_path), 'missing.pth'))


# ----------------------------------------------------------------------------- issue 13, part 5
def test_empty_checkpoint_says_the_file_is_empty(tmp_path):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError, match=r'empty\.pth: the file is empty\.$'):
        load_local_checkpoint(str(empty))
    with pytest.raises(CheckpointError, match=r'empty\.pth: the file is empty'):
        _load_checkpoint(str(empty), map_location='cpu')


@pytest.mark.parametrize('zip_format', [True, False])
def test_refused_checkpoint_passes_on_no_advice_to_turn_weights_only_off(tmp_path, zip_format):
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, extra=NotAllowed()), path,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_local_checkpoint(path)
    # everything a user sees: the message and the exceptions chained to it
    shown = ''.join(traceback.format_exception(info.type, info.value, info.tb))
    assert path in shown and 'NotAllowed' in shown
    for advice in ('weights_only=False', '`weights_only` set to `False`', 'add_safe_globals',
                   'if you trust'):
        assert advice not in shown, advice


def test_a_file_that_is_no_checkpoint_names_the_file_and_the_cause(tmp_path):
    junk = tmp_path / 'notes.pth'
    junk.write_bytes(b'hello')  # the unpickler fails with a bare KeyError: 101
    with pytest.raises(CheckpointError, match=r'notes\.pth: KeyError: 101\. The file is'):
        load_local_checkpoint(str(junk))
