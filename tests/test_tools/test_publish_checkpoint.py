# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/misc/publish_checkpoint.py: weights and plain meta only, the same tensors, the sum
recorded (and replaced) in SHA256SUMS."""
import hashlib
import os.path as osp

import torch

from conftest import REPO_ROOT, load_script


def test_publish_keeps_the_weights_and_records_the_sum(tmp_path):
    tool = load_script(osp.join(REPO_ROOT, 'tools', 'misc', 'publish_checkpoint.py'),
                       'publish_checkpoint_under_test')
    weights = {'a.weight': torch.randn(3, 2), 'b.bias': torch.arange(4.)}
    src = str(tmp_path / 'iter_10.pth')
    torch.save(dict(meta=dict(iter=10, seed=0, cfg='a config text'), state_dict=weights,
                    optimizer=dict(state={}), message_hub=dict(x=1)), src)
    dst = str(tmp_path / 'out' / 'toy.pth')
    digest = tool.publish(src, dst)

    published = torch.load(dst, weights_only=True)
    assert sorted(published) == ['meta', 'state_dict']
    assert published['meta'] == dict(iter=10, seed=0, published_from='iter_10.pth')
    for key, value in weights.items():
        assert torch.equal(published['state_dict'][key], value)
    with open(dst, 'rb') as f:
        assert digest == hashlib.sha256(f.read()).hexdigest()
    sums = tmp_path / 'out' / 'SHA256SUMS'
    assert sums.read_text() == f'{digest}  toy.pth\n'

    # publishing again replaces the line; other files' lines stay
    sums.write_text(f'{digest}  toy.pth\n{"0" * 64}  other.pth\n')
    weights['b.bias'] += 1
    torch.save(dict(state_dict=weights), src)
    digest2 = tool.publish(src, dst)
    assert digest2 != digest
    assert sums.read_text() == f'{"0" * 64}  other.pth\n{digest2}  toy.pth\n'
