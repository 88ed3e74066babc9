# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``tools/model_converters/xdecoder_to_mmgv.py`` on a synthetic state dict of the official
X-Decoder layout (keys written out independently of the converter's rules)."""
import importlib.util
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from mmgen_vision.models.xdecoder import build_self_attn_mask
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.convert import ConversionError, check_converted_keys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters', 'xdecoder_to_mmgv.py')
Q = 6

TINY = dict(
    type='XDecoder',
    backbone=dict(type='FocalNet', embed_dims=8, depths=(2, 1, 2, 1), focal_levels=2,
                  focal_windows=3),
    pixel_decoder=dict(type='XDecoderPixelDecoder', in_channels=(8, 16, 32, 64),
                       feat_channels=16, out_channels=16, num_encoder_layers=2, num_heads=2,
                       feedforward_channels=32, norm_cfg=dict(type='GN', num_groups=4)),
    decoder=dict(type='XDecoderTransformerDecoder', in_channels=16, embed_dims=16,
                 num_queries=Q, num_heads=2, feedforward_channels=32, num_layers=2,
                 mask_channels=16, proj_dim=16, context_length=77),
    lang_encoder=dict(type='XDecoderLanguageEncoder', width=16, layers=2, heads=2,
                      proj_dim=16))

_P, _PD = 'sem_seg_head.predictor.', 'sem_seg_head.pixel_decoder.'
#: ours -> official, written from the checkpoint layout in the X-Decoder facts.
INVERSE = [
    (r'^backbone\.patch_embed\.projection\.', 'backbone.patch_embed.proj.'),
    (r'^backbone\.patch_embed\.norm\.', 'backbone.patch_embed.norm.'),
    (r'^backbone\.stages\.(\d+)\.blocks\.(\d+)\.gamma([12])$',
     r'backbone.layers.\1.blocks.\2.gamma_\3'),
    (r'^backbone\.stages\.(\d+)\.blocks\.(\d+)\.', r'backbone.layers.\1.blocks.\2.'),
    (r'^backbone\.stages\.(\d+)\.downsample\.projection\.',
     r'backbone.layers.\1.downsample.proj.'),
    (r'^backbone\.stages\.(\d+)\.downsample\.norm\.', r'backbone.layers.\1.downsample.norm.'),
    (r'^backbone\.out_norms\.(\d+)\.', r'backbone.norm\1.'),
    (r'^pixel_decoder\.encoder_out_conv\.conv\.', _PD + 'layer_4.'),
    (r'^pixel_decoder\.encoder_out_conv\.gn\.', _PD + 'layer_4.norm.'),
    (r'^pixel_decoder\.mask_feature\.', _PD + 'mask_features.'),
    (r'^pixel_decoder\.input_proj\.', _PD + 'input_proj.'),
    (r'^pixel_decoder\.encoder\.(\d+)\.attn\.self_attn\.',
     _PD + r'transformer.encoder.layers.\1.self_attn.'),
    (r'^pixel_decoder\.encoder\.(\d+)\.attn\.norm\.',
     _PD + r'transformer.encoder.layers.\1.norm1.'),
    (r'^pixel_decoder\.encoder\.(\d+)\.ffn\.fc([12])\.',
     _PD + r'transformer.encoder.layers.\1.linear\2.'),
    (r'^pixel_decoder\.encoder\.(\d+)\.ffn\.norm\.',
     _PD + r'transformer.encoder.layers.\1.norm2.'),
    (r'^lang_encoder\.text_encoder\.layers\.(\d+)\.attn\.qkv\.',
     _P + r'lang_encoder.lang_encoder.resblocks.\1.attn.in_proj_'),
    (r'^lang_encoder\.text_encoder\.layers\.(\d+)\.attn\.proj\.',
     _P + r'lang_encoder.lang_encoder.resblocks.\1.attn.out_proj.'),
    (r'^lang_encoder\.text_encoder\.layers\.(\d+)\.ln([12])\.',
     _P + r'lang_encoder.lang_encoder.resblocks.\1.ln_\2.'),
    (r'^lang_encoder\.text_encoder\.layers\.(\d+)\.ffn\.fc1\.',
     _P + r'lang_encoder.lang_encoder.resblocks.\1.mlp.c_fc.'),
    (r'^lang_encoder\.text_encoder\.layers\.(\d+)\.ffn\.fc2\.',
     _P + r'lang_encoder.lang_encoder.resblocks.\1.mlp.c_proj.'),
    (r'^lang_encoder\.text_encoder\.', _P + 'lang_encoder.lang_encoder.'),
    (r'^lang_encoder\.', _P + 'lang_encoder.'),
    (r'^decoder\.self_attn_layers\.', _P + 'transformer_self_attention_layers.'),
    (r'^decoder\.cross_attn_layers\.(\d+)\.cross_attn\.',
     _P + r'transformer_cross_attention_layers.\1.multihead_attn.'),
    (r'^decoder\.cross_attn_layers\.', _P + 'transformer_cross_attention_layers.'),
    (r'^decoder\.ffn_layers\.(\d+)\.fc([12])\.', _P + r'transformer_ffn_layers.\1.linear\2.'),
    (r'^decoder\.ffn_layers\.', _P + 'transformer_ffn_layers.'),
    (r'^decoder\.caption_embed$', _P + 'caping_embed'),
    (r'^decoder\.caption_pos_embed\.', _P + 'pos_embed_caping.'),
    (r'^decoder\.', _P),
]


def to_official(key: str) -> str:
    match = re.match(r'^pixel_decoder\.(lateral|output)_convs\.(\d+)\.(conv|gn)\.(\w+)$', key)
    if match:
        kind, idx, part, param = match.groups()
        name = ('adapter_' if kind == 'lateral' else 'layer_') + str(int(idx) + 1)
        return _PD + name + ('.norm.' if part == 'gn' else '.') + param
    for pattern, target in INVERSE:
        if re.search(pattern, key):
            return re.sub(pattern, target, key)
    raise AssertionError(f'no inverse rule for {key}')


def load_converter():
    spec = importlib.util.spec_from_file_location('xdecoder_to_mmgv', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model():
    return MODELS.build(TINY)


@pytest.fixture
def official(model):
    torch.manual_seed(0)
    state = {to_official(k): torch.randn_like(v) if v.is_floating_point() else v
             for k, v in model.state_dict().items()}
    state[_P + 'self_attn_mask'] = build_self_attn_mask(Q, num_text=77)[None]
    state['backbone_proj'] = torch.randn(64, 16)  # official-only keys
    state['criterion.empty_weight'] = torch.ones(3)
    return state


def test_official_keys_look_official(official):
    for key in [_P + 'caping_embed', _P + 'pos_embed_caping.weight', _PD + 'adapter_1.weight',
                _PD + 'layer_4.norm.bias', 'backbone.layers.0.blocks.1.gamma_2',
                'backbone.norm3.weight', _P + 'transformer_ffn_layers.1.linear2.weight',
                _P + 'lang_encoder.lang_encoder.resblocks.1.mlp.c_fc.weight',
                _P + 'lang_encoder.lang_encoder.resblocks.0.attn.in_proj_weight',
                'backbone.layers.2.blocks.0.modulation.focal_layers.1.0.weight']:
        assert key in official, key


def test_convert_strict_roundtrip(model, official):
    converted = load_converter().convert_xdecoder(official)
    check_converted_keys(converted, model)
    model.load_state_dict(converted, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, official[to_official(key)]), key


def test_ddp_prefix_is_stripped(model, official):
    converted = load_converter().convert_xdecoder({f'module.{k}': v for k, v in official.items()})
    check_converted_keys(converted, model)


def test_unknown_key_is_named(official):
    official[_P + 'bbox_embed.layers.0.weight'] = torch.zeros(1)
    with pytest.raises(ConversionError, match='bbox_embed'):
        load_converter().convert_xdecoder(official)


def test_wrong_attention_mask_is_refused(official):
    official[_P + 'self_attn_mask'][0, 0, Q - 1] = False  # an object that sees the global query
    with pytest.raises(ConversionError, match='self_attn_mask'):
        load_converter().convert_xdecoder(official)


def test_missing_and_mismatched_keys_are_reported(model, official):
    converter = load_converter()
    del official['backbone.norm3.weight']
    with pytest.raises(ConversionError, match='out_norms.3.weight'):
        check_converted_keys(converter.convert_xdecoder(official), model)
    official['backbone.norm3.weight'] = torch.zeros(5)
    with pytest.raises(ConversionError, match='shape mismatches'):
        check_converted_keys(converter.convert_xdecoder(official), model)


def test_not_an_xdecoder_checkpoint():
    with pytest.raises(ConversionError, match='X-Decoder checkpoint'):
        load_converter().convert_xdecoder({'foo.weight': torch.zeros(1)})


def test_cli(model, official, tmp_path):
    src, dst = tmp_path / 'official.pt', tmp_path / 'ours.pth'
    torch.save({'model': official}, src)
    result = subprocess.run([sys.executable, CONVERTER, str(src), str(dst)], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'saved' in result.stdout
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['model'] == 'XDecoder'
    model.load_state_dict(ckpt['state_dict'], strict=True)
