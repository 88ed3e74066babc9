# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT against the official implementation's outputs (``shared/parity/groupvit_tiny.pt``),
plus the checkpoint converter, the straight-through assignment and the tokenizer."""
import os.path as osp

import pytest
import torch

from conftest import (REPO_ROOT, assert_parity_close, build_converted_model, load_converter,
                      load_parity_fixture)
from mmgen_vision.models.groupvit import (AssignAttention, GroupViT, GroupViTImageEncoder,
                                          GroupViTTextEncoder, hard_one_hot)
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.convert import ConversionError, check_converted_keys

CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters', 'groupvit_to_mmgv.py')

# the fixture's kwargs_resolved in our terms (text heads = width // 64 = 1, projector 4096)
TINY_CFG = dict(
    type='GroupViT',
    image_encoder=dict(
        type='GroupViTImageEncoder', img_size=32, patch_size=4, in_channels=3, embed_dims=32,
        depths=(2, 1, 1), num_heads=(2, 2, 2), num_group_tokens=(8, 4, 0),
        num_output_groups=(8, 4), hard_assignment=True, mlp_ratio=4., qkv_bias=True,
        drop_rate=0., attn_drop_rate=0., drop_path_rate=0.1, assign_eps=1., gumbel_tau=1.),
    text_encoder=dict(type='GroupViTTextEncoder', context_length=16, vocab_size=256, width=64,
                      layers=2),
    output_dim=16, proj_hidden_channels=4096, contrast_temperature=0.07, multi_label=3,
    share_temperature=False, multi_label_loss_weight=1.0)


def _load_converter():
    return load_converter('groupvit_to_mmgv')


@pytest.fixture(scope='module')
def fixture():
    return load_parity_fixture('groupvit_tiny.pt')


@pytest.fixture(scope='module')
def model(fixture):
    return build_converted_model(TINY_CFG, fixture['state_dict'],
                                 _load_converter().convert_groupvit)




def test_tiny_config_matches_fixture(fixture):
    kw = fixture['kwargs_resolved']
    img, txt = kw['img_encoder'], kw['text_encoder']
    ours = TINY_CFG['image_encoder']
    for key in ('img_size', 'patch_size', 'mlp_ratio', 'qkv_bias', 'hard_assignment',
                'drop_path_rate'):
        assert ours[key] == img[key], key
    assert ours['embed_dims'] == img['embed_dim']  # the release's name
    for key in ('depths', 'num_heads', 'num_group_tokens', 'num_output_groups'):
        assert list(ours[key]) == list(img[key]), key
    assert set(img['embed_factors']) == {1}
    for key in ('context_length', 'width', 'layers', 'vocab_size'):
        assert TINY_CFG['text_encoder'][key] == txt[key]
    assert TINY_CFG['output_dim'] == kw['output_dim']
    assert TINY_CFG['multi_label'] == kw['multi_label']
    derived = kw['derived_not_kwargs']
    assert derived['proj_inner_dim'] == TINY_CFG['proj_hidden_channels']
    assert derived['assign_eps'] == ours['assign_eps']
    assert derived['gumbel_tau'] == ours['gumbel_tau']


@pytest.mark.parametrize('tag', ['image', 'image_odd'])
def test_image_encoder_parity(fixture, model, tag):
    ref = fixture['outputs'][tag]
    with torch.no_grad():
        out = model.image_encoder(fixture['inputs'][tag], return_attn=True,
                                  return_intermediates=True)
        enc = model.encode_image(fixture['inputs'][tag], return_feat=True)
    assert_parity_close(fixture, f'{tag}.img_encoder_x', out['x'], ref['img_encoder_x'])
    assert_parity_close(fixture, f'{tag}.img_encoder_feat', out['feat'], ref['img_encoder_feat'])
    assert_parity_close(fixture, f'{tag}.image_x', enc['image_x'], ref['image_x'])
    assert_parity_close(fixture, f'{tag}.image_feat', enc['image_feat'], ref['image_feat'])
    compared = [k for k in out['intermediates'] if k in ref]
    expected = {'patch_embed', 'embed_tokens', 'stage0_projected_group_tokens',
                'stage0_pre_assign_out', 'stage0_assign_out', 'stage0_x_out',
                'stage0_group_tokens', 'stage1_group_projector_out',
                'stage1_projected_group_tokens', 'stage1_pre_assign_out', 'stage1_assign_out',
                'stage1_x_out', 'stage1_group_tokens', 'stage2_x_out'} & set(ref)
    assert expected <= set(compared)
    for key in compared:
        assert_parity_close(fixture, f'{tag}.{key}', out['intermediates'][key], ref[key])
    assert len(out['attn_dicts']) == 2
    for i, attn in enumerate(out['attn_dicts']):
        assert_parity_close(fixture, f'{tag}.stage{i}_attn_soft', attn['soft'],
                     ref[f'stage{i}_attn_soft'])
        hard, ref_hard = attn['hard'], ref[f'stage{i}_attn_hard']
        assert hard.shape == ref_hard.shape
        assert torch.equal(hard.round(), ref_hard.round()), f'{tag} stage{i} hard assignment'
    if tag == 'image_odd':
        with torch.no_grad():
            pos = model.image_encoder.interpolate_pos_embed(out['hw'])
        assert out['hw'] == (6, 10)
        assert_parity_close(fixture, 'image_odd.pos_embed_interp', pos, ref['pos_embed_interp'])


def test_text_parity(fixture, model):
    text = fixture['inputs']['text']
    ref = fixture['outputs']['text']
    rows = text.reshape(-1, text.shape[-1])
    with torch.no_grad():
        text_x = model.text_encoder(rows)
        caption, prompts = model.encode_text(text)
    assert torch.equal(rows.argmax(-1), ref['eot_index'])
    assert_parity_close(fixture, 'text.text_encoder_x', text_x, ref['text_encoder_x'])
    assert_parity_close(fixture, 'text.text_x', caption, ref['text_x'])
    assert_parity_close(fixture, 'text.text_multi_label_x', prompts, ref['text_multi_label_x'])


def test_aux_two_head_text_parity(fixture):
    aux = fixture['aux_text']
    kw = aux['kwargs']
    encoder = GroupViTTextEncoder(context_length=kw['context_length'], vocab_size=kw['vocab_size'],
                                  width=kw['width'], layers=kw['layers'])
    assert encoder.heads == aux['heads'] == 2
    converted = _load_converter().convert_groupvit(aux['state_dict'])
    converted = {k[len('text_encoder.'):]: v for k, v in converted.items()}
    encoder.load_state_dict(converted, strict=True)
    text = fixture['inputs']['text']
    with torch.no_grad():
        out = encoder.eval()(text.reshape(-1, text.shape[-1]))
    assert_parity_close(fixture, 'aux_text_encoder_x', out, fixture['outputs']['aux_text_encoder_x'])


def test_loss_parity(fixture, model):
    with torch.no_grad():
        losses = model(fixture['inputs']['image'], fixture['inputs']['text'], mode='loss')
    ref = fixture['outputs']['loss']
    assert set(losses) == {'loss', 'multi_label_loss'}
    # exp(logit_scale) = 115.6 in the fixture: the clamp at 100 is active
    assert model.logit_scale.exp() > 100 and model.scale() == 100
    assert_parity_close(fixture, 'loss.loss', losses['loss'], ref['loss'])
    assert_parity_close(fixture, 'loss.multi_label_loss', losses['multi_label_loss'],
                 ref['multi_label_loss'])


def test_zero_shot_parity(fixture, model):
    ref = fixture['outputs']['zero_shot']
    with torch.no_grad():
        emb = model.build_text_embedding(fixture['inputs']['class_text'])
        logits = model(fixture['inputs']['image'], emb, mode='predict')
    assert_parity_close(fixture, 'zero_shot.class_text_embedding', emb, ref['class_text_embedding'])
    assert_parity_close(fixture, 'zero_shot.logits_per_image', logits, ref['logits_per_image'])


@pytest.mark.parametrize('tag', ['img0', 'img1', 'odd'])
def test_segmentation_parity(fixture, model, tag):
    inputs, ref = fixture['inputs'], fixture['outputs']['seg']
    image = {'img0': inputs['image'][0:1], 'img1': inputs['image'][1:2],
             'odd': inputs['image_odd']}[tag]
    with torch.no_grad():
        emb = model.build_text_embedding(inputs['class_text'])
        maps = model.get_attn_maps(image)
        cases = {'3cls_bg': model.seg_logits(image, emb[:3], with_bg=True, bg_thresh=0.95),
                 '3cls_nobg': model.seg_logits(image, emb[:3], with_bg=False),
                 '7cls_bg': model.seg_logits(image, emb, with_bg=True, bg_thresh=0.95)}
    for i, attn_map in enumerate(maps):
        assert_parity_close(fixture, f'seg.{tag}_attn_map_stage{i}', attn_map,
                     ref[f'{tag}_attn_map_stage{i}'])
    for case, logits in cases.items():
        stable = ref[f'{tag}_stable_{case}']
        expected = ref[f'{tag}_logits_{case}']
        assert logits.shape == expected.shape
        assert stable.float().mean() > 0.99
        err = (logits - expected).abs().amax(dim=1)[stable].max().item()
        assert err <= 2e-4, f'{tag} {case}: logits max abs error {err:.3e} on stable pixels'
        labels = logits.argmax(dim=1)
        assert torch.equal(labels[stable], ref[f'{tag}_label_{case}'][stable]), (tag, case)


def test_converter_release_layout_loads_paper_model(fixture):
    converter = _load_converter()
    shapes = fixture.get('release_state_dict_shapes')
    assert shapes and len(shapes) == 407
    generator = torch.Generator().manual_seed(0)
    official = {k: torch.randn(tuple(s), generator=generator) if len(s) else torch.tensor(1.)
                for k, s in shapes.items()}
    official = {k: (v.long() if k.endswith('num_batches_tracked') else v)
                for k, v in official.items()}
    converted = converter.convert_groupvit(official)
    assert len(converted) == len(official)
    model = MODELS.build(converter.paper_model_cfg(multi_label=3))
    check_converted_keys(converted, model)
    model.load_state_dict(converted, strict=True)
    assert torch.equal(model.image_encoder.stages[1].group_projector.mlp.fc1.weight,
                       official['img_encoder.layers.1.group_projector.1.fc1.weight'])
    assert torch.equal(model.text_encoder.layers[11].attn.qkv.bias,
                       official['text_encoder.transformer.resblocks.11.attn.in_proj_bias'])
    assert model.text_encoder.heads == 4
    # the redcap release has no multi-label temperature
    official.pop('multi_label_logit_scale')
    check_converted_keys(converter.convert_groupvit(official),
                         MODELS.build(converter.paper_model_cfg(multi_label=0)))
    with pytest.raises(ConversionError):
        converter.convert_groupvit({'img_encoder.unknown.weight': torch.zeros(1)})


def test_converter_cli(fixture, tmp_path):
    from conftest import run_tool
    src = tmp_path / 'official.pth'
    torch.save({'model': fixture['state_dict'], 'epoch': 30}, src)
    dst = tmp_path / 'ours.pth'
    run_tool([CONVERTER, str(src), str(dst)])
    saved = torch.load(dst, weights_only=True)
    model = MODELS.build(TINY_CFG)
    model.load_state_dict(saved['state_dict'], strict=True)
    assert saved['meta']['converted_from'] == 'official.pth'


def test_hard_assignment_one_hot_and_straight_through():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 5, 7, requires_grad=True)
    soft = logits.softmax(dim=-2)
    hard = hard_one_hot(soft, dim=-2)
    assert torch.equal(hard.detach().round().sum(dim=-2), torch.ones(2, 1, 7))
    assert set(hard.detach().round().unique().tolist()) <= {0., 1.}
    assert torch.allclose(hard.detach(), hard.detach().round(), atol=1e-6)
    weights = torch.randn_like(hard)
    (hard * weights).sum().backward()
    expected = torch.autograd.grad((logits.softmax(dim=-2) * weights).sum(), logits)[0]
    assert torch.allclose(logits.grad, expected)

    # training: Gumbel noise, still one-hot over the groups, gradients reach q and k
    assign = AssignAttention(8, hard=True, gumbel=True).train()
    query = torch.randn(2, 3, 8, requires_grad=True)
    key = torch.randn(2, 10, 8, requires_grad=True)
    out, attn = assign(query, key)
    assert torch.equal(attn['hard'].detach().round().sum(dim=-2), torch.ones(2, 1, 10))
    out.square().sum().backward()
    assert query.grad.abs().sum() > 0
    assert assign.q.weight.grad.abs().sum() > 0 and assign.k.weight.grad.abs().sum() > 0
    # soft assignment keeps the distribution
    soft_assign = AssignAttention(8, hard=False).eval()
    _, attn = soft_assign(query, key)
    assert torch.equal(attn['hard'], attn['soft'])


def test_training_step_runs():
    model = MODELS.build(TINY_CFG).train()
    image = torch.randn(3, 3, 32, 32)
    text = torch.randint(1, 255, (3, 4, 16))
    text[..., -1] = 255
    losses = model(image, text, mode='loss')
    sum(losses.values()).backward()
    assert model.image_encoder.stages[0].group_token.grad is not None
    assert model.logit_scale.grad is not None and model.multi_label_logit_scale.grad is not None
    with pytest.raises(ValueError):
        model(image, text[:, :2], mode='loss')


def test_image_encoder_validates_config():
    with pytest.raises(ValueError):
        GroupViTImageEncoder(depths=(1, 1), num_heads=2, num_group_tokens=(4, 2),
                             num_output_groups=(4, ))


def test_tokenizer_matches_official(fixture):
    pytest.importorskip('open_clip')
    from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer
    ref = fixture['tokenizer_reference']
    tokenizer = CLIPTokenizer(context_length=ref['context_length'], pad_token='zero')
    assert tokenizer.sot_token_id == ref['sot'] and tokenizer.eot_token_id == ref['eot']
    assert torch.equal(tokenizer(ref['texts']), ref['ids'])


def test_paper_config_builds_paper_model():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'groupvit',
                                   'groupvit_gcc-yfcc_30e_paper.py'))
    model = MODELS.build(cfg.model).eval()
    assert isinstance(model, GroupViT)
    reference = MODELS.build(_load_converter().paper_model_cfg())
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()}
    with torch.no_grad():
        out = model.image_encoder(torch.randn(1, 3, 224, 224), return_attn=True)
    assert out['feat'].shape == (1, 8, 384)
    assert [a['soft'].shape for a in out['attn_dicts']] == [(1, 1, 64, 196), (1, 1, 8, 64)]
