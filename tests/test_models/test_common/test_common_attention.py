# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The shared attention: both kernel paths equal the explicit softmax reference (values and
gradients, the bias's included), the path choice per mode, and the projections' layouts."""
import pytest
import torch
import torch.nn.functional as F

from mmgen_vision.models.common.attention import (MultiheadAttention, explicit_attention,
                                                  scaled_dot_product_attention,
                                                  use_explicit_path)
from mmgen_vision.models.common.pos_embed import decomposed_rel_pos_bias


def reference(q, k, v, bias=None, causal=False):
    """``softmax(q k^T / sqrt(d) + bias) v`` in float64."""
    q, k, v = q.double(), k.double(), v.double()
    logits = q @ k.transpose(-2, -1) / q.shape[-1]**0.5
    if bias is not None:
        logits = logits + bias.double()
    if causal:
        n = logits.shape[-1]
        logits = logits.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float('-inf'))
    return logits.softmax(-1) @ v


def qkv_bias(seed=0, b=2, h=3, n=12, d=8):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(b, h, n, d, generator=g) for _ in range(3))
    bias = torch.randn(b, h, n, n, generator=g)
    return q, k, v, bias


@pytest.mark.parametrize('grad_bias', [False, True])
@pytest.mark.parametrize('full_bias', [False, True])
def test_kernel_equals_reference_with_gradients(grad_bias, full_bias):
    q, k, v, bias = qkv_bias()
    if not full_bias:  # broadcast over batch and heads (plain add instead of one GEMM)
        bias = bias[0, 0]
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    bias = bias.clone().requires_grad_(grad_bias)
    # a bias needing a gradient takes the explicit path on CPU, a constant one the fused kernel
    assert use_explicit_path(leaves[0], bias) is grad_bias
    out = scaled_dot_product_attention(*leaves, attn_bias=bias)
    ref_leaves = [t.detach().double().requires_grad_() for t in (q, k, v)]
    ref_bias = bias.detach().double().requires_grad_(grad_bias)
    ref = reference(*ref_leaves, ref_bias)
    assert torch.allclose(out.double(), ref, atol=1e-5)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    (ref * w.double()).sum().backward()
    for got, want in zip(leaves, ref_leaves):
        assert torch.allclose(got.grad.double(), want.grad, atol=1e-5)
    if grad_bias:
        assert torch.allclose(bias.grad.double(), ref_bias.grad, atol=1e-5)


def test_paths_agree_and_eval_uses_fused_kernel():
    q, k, v, bias = qkv_bias(seed=1)
    bias = bias.requires_grad_()
    with torch.no_grad():
        assert not use_explicit_path(q, bias)
        fused = scaled_dot_product_attention(q, k, v, attn_bias=bias)
        assert torch.equal(fused, F.scaled_dot_product_attention(q, k, v, attn_mask=bias))
    explicit = explicit_attention(q, k, v, bias)
    assert torch.allclose(fused, explicit, atol=1e-6)


def test_causal_and_boolean_masks():
    q, k, v, _ = qkv_bias(seed=2)
    want = reference(q, k, v, causal=True).float()
    assert torch.allclose(scaled_dot_product_attention(q, k, v, is_causal=True), want, atol=1e-5)
    assert torch.allclose(explicit_attention(q, k, v, is_causal=True), want, atol=1e-5)
    keep = torch.ones(12, 12, dtype=torch.bool).tril()
    assert torch.allclose(explicit_attention(q, k, v, keep), want, atol=1e-5)


def test_module_layouts_and_cross_attention():
    torch.manual_seed(0)
    fused = MultiheadAttention(16, 4)
    split = MultiheadAttention(16, 4, fused_qkv=False)
    assert set(fused.state_dict()) == {'qkv.weight', 'qkv.bias', 'proj.weight', 'proj.bias'}
    assert set(split.state_dict()) == {f'{n}.{p}' for n in 'qkv' for p in ('weight', 'bias')
                                       } | {'proj.weight', 'proj.bias'}
    # the fused projection is the separate ones stacked as [q; k; v]
    with torch.no_grad():
        split.q.weight.copy_(fused.qkv.weight[:16])
        split.k.weight.copy_(fused.qkv.weight[16:32])
        split.v.weight.copy_(fused.qkv.weight[32:])
        for i, name in enumerate('qkv'):
            getattr(split, name).bias.copy_(fused.qkv.bias[16 * i:16 * (i + 1)])
        split.proj.load_state_dict(fused.proj.state_dict())
    x = torch.randn(2, 5, 16)
    assert torch.allclose(fused(x), split(x), atol=1e-6)
    # cross-attention: queries of one length on keys / values of another
    mem, pos = torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    out = split(x, mem + pos, mem)
    q = split.split_heads(split.q(x))
    k, v = split.split_heads(split.k(mem + pos)), split.split_heads(split.v(mem))
    want = split.proj(reference(q, k, v).float().transpose(1, 2).reshape(2, 5, 16))
    assert out.shape == (2, 5, 16) and torch.allclose(out, want, atol=1e-5)
    with pytest.raises(ValueError, match='fused qkv'):
        fused(x, mem)
    with pytest.raises(ValueError, match='divisible'):
        MultiheadAttention(10, 4)


def test_relative_position_bias_trains_through_the_explicit_path():
    """Painter's attention: train mode with a learned bias equals eval mode (fused kernel) in
    value, and the tables get the reference gradient."""
    from mmgen_vision.models.painter.painter_vit import RelPosAttention
    torch.manual_seed(0)
    attn = RelPosAttention(32, 4, rel_pos_size=(4, 3))
    with torch.no_grad():
        attn.rel_pos_h.normal_()
        attn.rel_pos_w.normal_()
    x = torch.randn(2, 4, 3, 32)
    with torch.no_grad():
        eval_out = attn(x)
    out = attn(x)
    assert torch.allclose(out, eval_out, atol=1e-5)
    out.square().sum().backward()
    got = attn.rel_pos_h.grad.clone(), attn.rel_pos_w.grad.clone()
    attn.zero_grad()
    q, k, v = attn.qkv_heads(x)
    bias = decomposed_rel_pos_bias(q, attn.rel_pos_h, attn.rel_pos_w, (4, 3))
    ref = attn.out_proj(reference(q, k, v, bias).float()).reshape(2, 4, 3, 32)
    ref.square().sum().backward()
    assert torch.allclose(got[0], attn.rel_pos_h.grad, atol=1e-4, rtol=1e-4)
    assert torch.allclose(got[1], attn.rel_pos_w.grad, atol=1e-4, rtol=1e-4)


def test_inductor_keeps_the_training_scores_row_major():
    """A convolution, the explicit path with a learned relative position bias, a convolution:
    Painter's training graph in miniature. Inductor's layout optimisation (on when a graph has
    convolutions; forced here, the tiny graph would not trigger it) stored 4-D scores
    ``(B, heads, N, N)`` channels-last, heads innermost, so that ``bmm`` copied them matrix by
    matrix (Painter's toy train step compiled: 1.2 s vs 0.82 s eager at one thread, 0.64 s since
    the scores are kept 3-D). Every ``N x N`` buffer of the compiled forward and backward must
    be row-major, and the compiled loss and gradients equal eager. About 20 CPU-seconds of
    inductor compilation."""
    import re

    from torch._inductor.utils import run_and_get_code
    b, heads, d, grid = 2, 3, 8, (4, 5)
    n = grid[0] * grid[1]
    torch.manual_seed(0)
    conv_in = torch.nn.Conv2d(3, 3 * heads * d, 3, padding=1)
    conv_out = torch.nn.Conv2d(heads * d, 3, 3, padding=1)
    rel_h = torch.nn.Parameter(0.1 * torch.randn(2 * grid[0] - 1, d))
    rel_w = torch.nn.Parameter(0.1 * torch.randn(2 * grid[1] - 1, d))
    params = [rel_h, rel_w, *conv_in.parameters(), *conv_out.parameters()]
    x = torch.randn(b, 3, *grid)

    def step(x):
        qkv = conv_in(x).flatten(2).transpose(1, 2).reshape(b, n, 3, heads, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        bias = decomposed_rel_pos_bias(q, rel_h, rel_w, grid)
        out = scaled_dot_product_attention(q, k, v, bias)  # the explicit path (bias learned)
        out = out.transpose(1, 2).reshape(b, *grid, heads * d).permute(0, 3, 1, 2)
        loss = conv_out(out).square().mean()
        return loss, torch.autograd.grad(loss, params)

    want = step(x)
    torch._dynamo.reset()
    with torch._inductor.config.patch(force_layout_optimization=True):
        got, codes = run_and_get_code(torch.compile(step, backend='inductor'), x)
    torch._dynamo.reset()
    scores = []
    for code in codes:
        for size, stride in re.findall(r'empty_strided_cpu\(\(([\d, ]+)\), \(([\d, ]+)\)', code):
            size, stride = ([int(v) for v in s.split(',') if v.strip()] for s in (size, stride))
            if size[-2:] == [n, n]:
                scores.append((size, stride))
    assert scores, 'no N x N buffer found in the generated code'
    assert all(stride[-1] == 1 for _, stride in scores), scores
    torch.testing.assert_close(got[0], want[0])
    for g, w in zip(got[1], want[1]):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)
