# Copyright (c) mmgen_vision contributors. All rights reserved.
"""FocalNet (``focal_dw``) backbone of X-Decoder, in our scope and in mmdet's."""
import pytest
import torch

from mmgen_vision.models.xdecoder import FocalNet
from mmgen_vision.models.xdecoder.focalnet import FocalModulation
from mmgen_vision.registry import MODELS

TINY = dict(type='FocalNet', embed_dims=8, depths=(1, 2, 1, 1), focal_levels=3, focal_windows=3,
            drop_path_rate=0.)


def test_multi_scale_outputs_with_unpadded_input():
    model = MODELS.build(TINY).eval()
    x = torch.randn(2, 3, 70, 90)  # not a multiple of 32: every embedding pads
    with torch.no_grad():
        out = model(x)
    assert list(out) == ['res2', 'res3', 'res4', 'res5']
    expected = [(8, 18, 23), (16, 9, 12), (32, 5, 6), (64, 3, 3)]
    for (c, h, w), feat in zip(expected, out.values()):
        assert feat.shape == (2, c, h, w)
    # each output passed its own LayerNorm: zero mean / unit variance over channels
    res3 = out['res3'].permute(0, 2, 3, 1)
    torch.testing.assert_close(res3.mean(-1), torch.zeros_like(res3[..., 0]), atol=1e-5,
                               rtol=0)


def test_release_hyper_parameters():
    model = FocalNet(embed_dims=8, depths=(1, 1, 1, 1), focal_levels=(3, 3, 3, 4),
                     focal_windows=3, layerscale_value=1e-4)
    block = model.stages[3].blocks[0]
    kernels = [layer[0].kernel_size for layer in block.modulation.focal_layers]
    assert kernels == [(3, 3), (5, 5), (7, 7), (9, 9)]
    assert block.modulation.f.out_features == 2 * 64 + 4 + 1
    assert block.modulation.focal_layers[0][0].bias is None  # depth-wise, no bias
    assert torch.all(block.gamma1 == 1e-4) and block.gamma1.requires_grad
    assert model.patch_embed.projection.kernel_size == (7, 7)  # conv stem
    assert model.stages[0].downsample.projection.kernel_size == (3, 3)
    assert model.patch_embed.projection.stride == (4, 4)
    with pytest.raises(ValueError, match='one entry per stage'):
        FocalNet(depths=(1, 1), focal_levels=(3, 3, 3))


def test_modulation_context_is_global_and_scaled():
    torch.manual_seed(0)
    mod = FocalModulation(4, focal_level=2, focal_window=3).eval()
    x = torch.randn(1, 5, 5, 4)
    y = x.clone()
    y[0, 4, 4] += 3.0  # a far pixel changes every output through the global context
    with torch.no_grad():
        a, b = mod(x), mod(y)
    assert not torch.allclose(a[0, 0, 0], b[0, 0, 0])
    unscaled = FocalModulation(4, 2, 3, scaling_modulator=False).eval()
    unscaled.load_state_dict(mod.state_dict())
    with torch.no_grad():
        assert not torch.allclose(unscaled(x), a)


def test_post_and_pre_norm_differ_and_checkpointing_matches():
    torch.manual_seed(0)
    post = FocalNet(**{k: v for k, v in TINY.items() if k != 'type'}, use_postln=True)
    pre = FocalNet(**{k: v for k, v in TINY.items() if k != 'type'}, use_postln=False)
    pre.load_state_dict(post.state_dict())
    x = torch.randn(1, 3, 64, 64)
    assert not torch.allclose(post(x)['res5'], pre(x)['res5'])
    cp = FocalNet(**{k: v for k, v in TINY.items() if k != 'type'}, with_cp=True)
    cp.load_state_dict(post.state_dict())
    post.train(), cp.train()
    x.requires_grad_(True)
    out_a = post(x)['res5'].sum()
    grad_a = torch.autograd.grad(out_a, x)[0]
    out_b = cp(x)['res5'].sum()
    grad_b = torch.autograd.grad(out_b, x)[0]
    torch.testing.assert_close(out_a, out_b)
    torch.testing.assert_close(grad_a, grad_b)


def test_frozen_stages():
    model = FocalNet(**{k: v for k, v in TINY.items() if k != 'type'}, frozen_stages=1)
    model.train()
    assert not any(p.requires_grad for p in model.patch_embed.parameters())
    assert not any(p.requires_grad for p in model.stages[0].parameters())
    assert all(p.requires_grad for p in model.stages[1].blocks.parameters())
    assert not model.stages[0].training and model.stages[1].training


def test_mmdet_scope_returns_tuple():
    # an mmdet detector config names our tuple variant with the scope prefix; built through
    # mmdet's own registry (as inside an mmdet detector), it resolves across scopes
    from mmdet.registry import MODELS as MMDET_MODELS
    assert 'FocalNet' not in MMDET_MODELS.module_dict  # we do not register into mmdet
    model = MMDET_MODELS.build(
        {**TINY, 'type': 'mmgen_vision.MMDetFocalNet', 'out_indices': (1, 2, 3)}).eval()
    assert type(model).__name__ == 'MMDetFocalNet'
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert isinstance(out, tuple) and len(out) == 3
    assert [o.shape[1] for o in out] == [16, 32, 64]
