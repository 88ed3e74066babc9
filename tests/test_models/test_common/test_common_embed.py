# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The shared embeddings and patch layout equal the per-method functions they replaced, and
old GLID decoder checkpoints still load."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmgen_vision.models.common.patchify import patchify, unpatchify
from mmgen_vision.models.common.pos_embed import (decomposed_rel_pos_bias, resize_pos_embed,
                                                  sine_pos_embed_2d)


def old_resize(pos_embed, grid, num_prefix):
    """The resize Painter and GroupViT each had: drop the prefix slots, bicubic
    (``align_corners=False``) on the square grid."""
    pos = pos_embed[:, num_prefix:]
    side = int(math.sqrt(pos.shape[1]))
    pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    if (side, side) != tuple(grid):
        pos = F.interpolate(pos, size=tuple(grid), mode='bicubic', align_corners=False)
    return pos.permute(0, 2, 3, 1).reshape(1, grid[0] * grid[1], -1)


@pytest.mark.parametrize('grid,prefix', [((8, 4), 1), ((14, 14), 1), ((6, 10), 0),
                                         ((14, 14), 0)])
def test_resize_pos_embed_equals_the_old_resize(grid, prefix):
    table = torch.randn(1, prefix + 14 * 14, 24)
    got = resize_pos_embed(table, grid, prefix)
    assert got.shape == (1, grid[0] * grid[1], 24)
    assert torch.equal(got, old_resize(table, grid, prefix))


def test_resize_pos_embed_needs_a_square_or_a_given_grid():
    table = torch.randn(1, 12, 8)
    with pytest.raises(ValueError, match='square'):
        resize_pos_embed(table, (4, 4))
    assert resize_pos_embed(table, (6, 4), old_grid=(3, 4)).shape == (1, 24, 8)


def old_sine(h, w, dim, temperature=10000.):
    """GLID's own 2D sine-cosine embedding before it was built on mmdet's encoding."""
    quarter = dim // 4
    omega = 1. / temperature**(torch.arange(quarter, dtype=torch.float32) / quarter)
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 * math.pi
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 * math.pi
    yy, xx = torch.meshgrid(ys, xs, indexing='ij')
    oy, ox = yy.flatten()[:, None] * omega[None], xx.flatten()[:, None] * omega[None]
    return torch.cat([oy.sin(), oy.cos(), ox.sin(), ox.cos()], dim=1)


@pytest.mark.parametrize('h,w,dim', [(4, 4, 32), (3, 7, 64), (16, 8, 256)])
def test_sine_pos_embed_equals_glid_layout(h, w, dim):
    got = sine_pos_embed_2d(h, w, dim)
    assert got.shape == (h * w, dim)
    assert torch.allclose(got, old_sine(h, w, dim), atol=1e-5, rtol=0)
    assert sine_pos_embed_2d(h, w, dim, dtype=torch.float16).dtype == torch.float16
    with pytest.raises(ValueError, match='divisible by 4'):
        sine_pos_embed_2d(h, w, 30)


def test_decomposed_bias_matches_its_definition_and_the_cached_band():
    torch.manual_seed(0)
    b, heads, c, (h, w) = 1, 2, 4, (4, 3)
    q = torch.randn(b, heads, h * w, c)
    rel_h, rel_w = torch.randn(2 * h - 1, c), torch.randn(2 * w - 1, c)
    bias = decomposed_rel_pos_bias(q, rel_h, rel_w, (h, w))
    qg = q.reshape(b, heads, h, w, c)
    for (i, j, k, l) in [(0, 0, 0, 0), (3, 2, 0, 1), (1, 0, 2, 2)]:
        want = qg[0, 1, i, j] @ rel_h[i - k + h - 1] + qg[0, 1, i, j] @ rel_w[j - l + w - 1]
        assert torch.allclose(bias[0, 1, i * w + j, k * w + l], want, atol=1e-5)
    # the bottom two rows alone against the whole grid: the same rows of the full bias
    band = decomposed_rel_pos_bias(q[:, :, 2 * w:], rel_h, rel_w, (h, w), q_row_offset=2)
    assert torch.allclose(band, bias[:, :, 2 * w:], atol=1e-6)


def test_patchify_layout_and_roundtrip():
    img = torch.arange(2 * 3 * 16 * 8, dtype=torch.float32).view(2, 3, 16, 8)
    patches = patchify(img, 4)
    assert patches.shape == (2, 8, 48)
    # patch 1 is the block of rows 0-3, columns 4-7, pixels in (y, x, c) order
    assert torch.equal(patches[0, 1].view(4, 4, 3).permute(2, 0, 1), img[0, :, :4, 4:])
    assert torch.equal(unpatchify(patches, 4, (4, 2)), img)
    one = patchify(img[:, :1], 4)  # channels inferred from the row length
    assert one.shape == (2, 8, 16) and torch.equal(unpatchify(one, 4, (4, 2)), img[:, :1])
    with pytest.raises(ValueError, match='multiple'):
        patchify(img, 5)


def test_models_package_exports_one_patchify():
    import mmgen_vision.models as models
    assert models.patchify is patchify and models.unpatchify is unpatchify
    for name in models.__all__:
        assert hasattr(models, name)


def test_glid_decoder_loads_checkpoints_with_the_old_ffn_keys():
    from mmgen_vision.models.glid.decoder import (GLIDTransformerDecoder,
                                                  rename_legacy_ffn_keys)
    torch.manual_seed(0)
    decoder = GLIDTransformerDecoder(32, num_layers=2, num_heads=4, memory_levels=(0, ))
    old = {k.replace('ffn.fc1.', 'ffn.0.').replace('ffn.fc2.', 'ffn.2.'): v + 1.
           for k, v in decoder.state_dict().items()}
    assert 'layers.1.ffn.2.bias' in old and 'layers.1.norm_ffn.bias' in old
    fresh = GLIDTransformerDecoder(32, num_layers=2, num_heads=4, memory_levels=(0, ))
    fresh.load_state_dict(dict(old))  # strict: every old key found its new name
    assert torch.equal(fresh.layers[1].ffn.fc2.bias, old['layers.1.ffn.2.bias'])
    assert torch.equal(fresh.layers[0].ffn.fc1.weight, old['layers.0.ffn.0.weight'])
    renamed = rename_legacy_ffn_keys({'core.decoder.layers.3.ffn.0.weight': 1,
                                      'core.decoder.layers.3.norm_ffn.weight': 2})
    assert renamed == {'core.decoder.layers.3.ffn.fc1.weight': 1,
                       'core.decoder.layers.3.norm_ffn.weight': 2}
