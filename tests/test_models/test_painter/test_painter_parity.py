# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter against the official implementation's outputs (``shared/parity/painter_tiny.pt``)
and the checkpoint converter on a synthetic state dict of the official layout."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT, build_converted_model, load_converter, load_parity_fixture
from mmgen_vision.models.painter import PainterLoss, PainterMaskGenerator, unpatchify
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.convert import ConversionError, check_converted_keys

CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters', 'painter_to_mmgv.py')

# the fixture's kwargs in our terms: 64x32 canvas, p=8, E=48, 24 blocks, 4 heads, D=16,
# all-global attention (the release's window list never matches), merge after block 2
TINY_CFG = dict(
    type='Painter',
    backbone=dict(type='PainterViT', img_size=(64, 32), patch_size=8, embed_dims=48, num_layers=24,
                  num_heads=4, mlp_ratio=4., drop_path_rate=0.1, pretrain_img_size=48,
                  merge_index=2),
    head=dict(type='PainterHead', in_channels=48, num_taps=4, patch_size=8, embed_dims=16),
    loss=dict(type='PainterLoss', beta=0.01))
PRED_ATOL = 1e-5


def _load_converter():
    return load_converter('painter_to_mmgv')


@pytest.fixture(scope='module')
def fixture():
    return load_parity_fixture('painter_tiny.pt')


@pytest.fixture(scope='module')
def model(fixture):
    return build_converted_model(TINY_CFG, fixture['state_dict'],
                                 _load_converter().convert_painter)


@pytest.fixture(scope='module')
def run(model, fixture):
    inp = fixture['inputs']
    valid = inp['valid'].clone()
    with torch.no_grad():
        feats, inter = model.backbone(inp['imgs'], inp['tgts'], inp['bool_masked_pos'],
                                      return_intermediates=True)
        pixel_feats = model.head.embed(feats)
        pred = model.head(feats)
        loss, pred_patches, mask = model.forward_train(inp['imgs'], inp['tgts'],
                                                       inp['bool_masked_pos'], valid)
        loss_dark = model.loss_module(pred, inp['tgts_dark'], mask, inp['valid'].clone(),
                                      model.patch_size)
    return dict(feats=feats, inter=inter, pixel_feats=pixel_feats, pred=pred, loss=loss,
                pred_patches=pred_patches, mask=mask, loss_dark=loss_dark, valid=valid)


def _max_err(a, b) -> float:
    return (a - b).abs().max().item()


def test_pred_image_and_loss(run, fixture):
    out = fixture['outputs']
    assert _max_err(run['pred'], out['pred_image']) < PRED_ATOL
    assert _max_err(run['pred_patches'], out['pred_patches']) < PRED_ATOL
    assert torch.equal(run['mask'], out['mask'])
    assert abs(run['loss'].item() - out['loss'].item()) < 1e-6
    # the loss drops a near-black target (sample 1) as the release does, without mutating valid
    assert abs(run['loss_dark'].item() - out['loss_ignore_case'].item()) < 1e-6
    assert out['ignored_samples_in_ignore_case'] == [1]
    assert torch.equal(run['valid'], fixture['inputs']['valid'])


def test_intermediates(model, run, fixture):
    out, inp = fixture['outputs'], fixture['inputs']
    with torch.no_grad():
        assert _max_err(model.backbone.patch_embed(inp['imgs']), out['patch_embed_imgs']) < 1e-5
        assert _max_err(model.backbone.patch_embed(inp['tgts']), out['patch_embed_tgts']) < 1e-5
        assert _max_err(model.backbone.abs_pos((8, 4)), out['abs_pos_resized']) < 1e-5
    inter = run['inter']
    assert _max_err(inter['encoder_input_tokens'], out['encoder_input_tokens']) < 1e-5
    assert len(inter['block_outputs']) == 24
    for i, (ours, ref) in enumerate(zip(inter['block_outputs'], out['block_outputs'])):
        assert ours.shape == ref.shape, i
        assert _max_err(ours, ref) < 1e-4, f'block {i}'
    assert _max_err(inter['merged_tokens'], out['merged_tokens']) < 1e-5
    for ours, ref in zip(run['feats'], out['tapped_features']):
        assert _max_err(ours, ref) < 1e-4
    assert _max_err(run['pixel_feats'], out['decoder_pred_input']) < 1e-4


def test_converted_checkpoint_through_cli(fixture, tmp_path):
    src = tmp_path / 'official.pth'
    torch.save({'model': fixture['state_dict'], 'epoch': 3}, src)
    dst = tmp_path / 'ours.pth'
    proc = subprocess.run([sys.executable, CONVERTER, str(src), str(dst)], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ckpt = torch.load(dst, weights_only=True)
    model = MODELS.build(TINY_CFG)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    assert torch.equal(model.head.conv_out.weight, fixture['state_dict']['decoder_pred.3.weight'])


def _synthetic_official(depth=4, dim=32, heads=2, grid=(4, 2), patch=4, dec=8, pre_slots=17):
    """A random state dict with the official layout (names and shapes of painter_facts.md)."""
    hd = dim // heads
    sd = {'mask_token': torch.randn(1, 1, 1, dim), 'segment_token_x': torch.randn(1, 1, 1, dim),
          'segment_token_y': torch.randn(1, 1, 1, dim), 'pos_embed': torch.randn(1, pre_slots, dim),
          'patch_embed.proj.weight': torch.randn(dim, 3, patch, patch),
          'patch_embed.proj.bias': torch.randn(dim)}
    for i in range(depth):
        b = f'blocks.{i}.'
        sd.update({
            b + 'norm1.weight': torch.randn(dim), b + 'norm1.bias': torch.randn(dim),
            b + 'attn.qkv.weight': torch.randn(3 * dim, dim),
            b + 'attn.qkv.bias': torch.randn(3 * dim),
            b + 'attn.proj.weight': torch.randn(dim, dim), b + 'attn.proj.bias': torch.randn(dim),
            b + 'attn.rel_pos_h': torch.randn(2 * grid[0] - 1, hd),
            b + 'attn.rel_pos_w': torch.randn(2 * grid[1] - 1, hd),
            b + 'norm2.weight': torch.randn(dim), b + 'norm2.bias': torch.randn(dim),
            b + 'mlp.fc1.weight': torch.randn(4 * dim, dim),
            b + 'mlp.fc1.bias': torch.randn(4 * dim),
            b + 'mlp.fc2.weight': torch.randn(dim, 4 * dim), b + 'mlp.fc2.bias': torch.randn(dim)})
    sd.update({'norm.weight': torch.randn(dim), 'norm.bias': torch.randn(dim),
               'decoder_embed.weight': torch.randn(patch * patch * dec, 4 * dim),
               'decoder_embed.bias': torch.randn(patch * patch * dec),
               'decoder_pred.0.weight': torch.randn(dec, dec, 3, 3),
               'decoder_pred.0.bias': torch.randn(dec),
               'decoder_pred.1.weight': torch.randn(dec), 'decoder_pred.1.bias': torch.randn(dec),
               'decoder_pred.3.weight': torch.randn(3, dec, 1, 1),
               'decoder_pred.3.bias': torch.randn(3)})
    return sd


SYNTH_CFG = dict(
    type='Painter',
    backbone=dict(type='PainterViT', img_size=(16, 8), patch_size=4, embed_dims=32, num_layers=4,
                  num_heads=2, pretrain_img_size=16, merge_index=0, out_indices=(0, 1, 2, 3)),
    head=dict(type='PainterHead', in_channels=32, num_taps=4, patch_size=4, embed_dims=8))


def test_converter_synthetic_official_layout():
    converter = _load_converter()
    sd = _synthetic_official()
    converted = converter.convert_painter({'module.' + k: v for k, v in sd.items()})
    model = MODELS.build(SYNTH_CFG)
    check_converted_keys(converted, model)
    model.load_state_dict(converted, strict=True)
    assert torch.equal(model.backbone.blocks[1].attn.rel_pos_w, sd['blocks.1.attn.rel_pos_w'])
    assert torch.equal(model.backbone.blocks[0].ffn.fc1.weight, sd['blocks.0.mlp.fc1.weight'])
    assert torch.equal(model.head.norm.weight, sd['decoder_pred.1.weight'])
    # every official tensor went somewhere, and nothing was invented
    assert len(converted) == len(sd) == len(model.state_dict())


def test_converter_rejects_mismatching_checkpoints():
    converter = _load_converter()
    sd = _synthetic_official()
    with pytest.raises(ConversionError, match='no Painter conversion rule'):
        converter.convert_painter(dict(sd, **{'cls_token': torch.zeros(1, 1, 32)}))
    with pytest.raises(ConversionError, match='missing'):
        converter.convert_painter({k: v for k, v in sd.items() if k != 'mask_token'})
    # a checkpoint of another size converts but does not fit: a clear error names the keys
    converted = converter.convert_painter(_synthetic_official(depth=5))
    with pytest.raises(ConversionError, match='unexpected.*blocks.4'):
        check_converted_keys(converted, MODELS.build(SYNTH_CFG))
    converted = converter.convert_painter(_synthetic_official(dim=48, heads=2))
    with pytest.raises(ConversionError, match='shape mismatches'):
        check_converted_keys(converted, MODELS.build(SYNTH_CFG))


def test_mae_conversion_keeps_encoder_only():
    converter = _load_converter()
    sd = _synthetic_official()
    mae = {k: v for k, v in sd.items() if not k.startswith(('decoder', 'segment', 'mask_token'))
           and 'rel_pos' not in k}
    mae.update({'cls_token': torch.zeros(1, 1, 32), 'mask_token': torch.zeros(1, 1, 32),
                'decoder_embed.weight': torch.zeros(8, 32)})
    converted = converter.convert_mae(mae)
    assert 'backbone.pos_embed' in converted and 'backbone.mask_token' not in converted
    model = MODELS.build(SYNTH_CFG)
    missing, unexpected = model.load_state_dict(converted, strict=False)
    assert not unexpected
    assert all('rel_pos' in k or 'token' in k or k.startswith('head.') for k in missing)


def test_paper_config_matches_release_shapes(fixture):
    """The paper-size model has exactly the release's parameter shapes (no weights needed)."""
    shapes = fixture.get('release_state_dict_shapes')
    if not shapes:
        pytest.skip('the fixture has no release_state_dict_shapes')
    converter = _load_converter()
    with torch.device('meta'):
        model = MODELS.build(converter.paper_model_cfg())
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    fake = {k: torch.empty(0) for k in shapes}
    renamed = converter.convert_painter(fake)
    expected = {new: tuple(shapes[old]) for new, old in zip(renamed, shapes)}
    assert ours == expected
    assert 360e6 < sum(v.numel() for v in model.parameters()) < 380e6


def test_mask_generator_block_and_half_modes():
    gen = PainterMaskGenerator(grid=(56, 28), ratio=0.5, min_block=16, max_block=392,
                               half_prob=0.)
    import random
    rng = random.Random(0)
    for _ in range(5):
        mask = gen.block_mask(rng)
        assert mask.sum().item() == 784  # blocks fill the target exactly
    half = PainterMaskGenerator(grid=(8, 4), half_prob=1.)(3)
    assert half.shape == (3, 32)
    assert half[:, :16].sum() == 0 and half[:, 16:].all()


def test_loss_only_on_masked_patches_weighted_by_valid():
    torch.manual_seed(0)
    loss_fn = PainterLoss(beta=0.01, min_visible_sum=0.)
    tgt = torch.randn(2, 3, 16, 8)
    pred = tgt.clone()
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[:, 4:] = True
    pix = unpatchify(mask[..., None].float().expand(-1, -1, 48), 4, (4, 2))
    pred = pred + 0.5 * (1 - pix)  # errors only on visible patches -> zero loss
    valid = torch.ones_like(tgt)
    assert loss_fn(pred, tgt, mask, valid, 4).item() == 0.
    pred2 = tgt + 1.0 * pix  # error 1 on every masked pixel -> smooth-L1 = 1 - beta/2
    assert abs(loss_fn(pred2, tgt, mask, valid, 4).item() - 0.995 * 384 / (384 + 0.01)) < 1e-6
    valid[0] = 0.  # a zero-weight sample does not count
    assert abs(loss_fn(pred2, tgt, mask, valid, 4).item() - 0.995 * 192 / (192 + 0.01)) < 1e-6
    # the release's drop rule: a sample whose visible target is (near) black is ignored
    dark = torch.full_like(tgt, -3.)  # below -mean/std: de-normalised < 0 everywhere
    drop = PainterLoss(beta=0.01, min_visible_sum=300.)
    valid = torch.ones_like(tgt)
    assert drop(pred2 - tgt + dark, dark, mask, valid, 4).item() == 0.
    assert torch.equal(valid, torch.ones_like(tgt))
