# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID unit tests: masking and query construction, the mask-token encoder, the masked-only
pre-training loss, BiFPN fusion, the decoder, CLS-initialised fine-tuning queries and partial
loading of the pre-trained weights (exact key sets)."""
import copy

import pytest
import torch

from mmgen_vision.models.glid import (BiFPN, GLIDPretrainer, GLIDSegmentor,
                                      GLIDTransformerDecoder, LOAD_CHOICES,
                                      load_glid_pretrained, patchify, select_keys,
                                      sine_pos_embed_2d, unpatchify)

WIDTH = 32
CORE = dict(
    type='GLIDEncoderDecoder',
    backbone=dict(type='GLIDSwinTransformer', embed_dims=16, depths=(1, 1, 1, 1),
                  num_heads=(1, 2, 2, 4), window_size=4, drop_path_rate=0.),
    neck=dict(type='BiFPN', in_channels=(16, 32, 64, 128), out_channels=WIDTH, num_layers=1,
              norm_cfg=dict(type='GN', num_groups=4)),
    decoder=dict(type='GLIDTransformerDecoder', embed_dims=WIDTH, num_layers=2, num_heads=4))
SEG_HEAD = dict(
    type='GLIDSegHead', num_classes=3,
    assigner=dict(type='mmdet.HungarianAssigner', match_costs=[
        dict(type='mmdet.ClassificationCost', weight=2.0),
        dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
        dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
    loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0,
                  class_weight=[1.0, 1.0, 1.0, 0.1]),
    loss_mask=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, loss_weight=5.0),
    loss_dice=dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True, naive_dice=True,
                   eps=1.0, loss_weight=5.0))


def make_pretrainer(**kwargs):
    torch.manual_seed(0)
    model = GLIDPretrainer(copy.deepcopy(CORE), mask_patch_size=8, mask_ratio=0.5,
                           norm_pix_loss=False, **kwargs)
    model.init_weights()
    return model.eval()


def make_segmentor(pretrained=None, seed=1):
    torch.manual_seed(seed)
    model = GLIDSegmentor(encoder_decoder=copy.deepcopy(CORE), num_queries=5,
                          seg_head=copy.deepcopy(SEG_HEAD), pretrained=pretrained)
    model.init_weights()
    return model


# masking and queries ------------------------------------------------------------------------
def test_random_masking_count_order_and_mask():
    model = make_pretrainer()
    ids, mask = model.random_masking(3, 4, 4, generator=torch.Generator().manual_seed(0))
    assert ids.shape == (3, 8)  # round(0.5 * 16)
    assert torch.all(ids[:, 1:] > ids[:, :-1])  # ascending raster order, no repeats
    for b in range(3):
        expected = torch.zeros(16, dtype=torch.bool)
        expected[ids[b]] = True
        assert torch.equal(mask[b].flatten(), expected)
    assert not torch.equal(ids[0], ids[1])  # drawn per image


def test_queries_match_masked_positions():
    """Query 0 is CLS; query i is the mask query plus the position of masked patch i."""
    model = make_pretrainer()
    ids = torch.tensor([[0, 5, 15], [3, 6, 9]])
    queries = model.build_queries(ids, 4, 4)
    assert queries.shape == (2, 4, WIDTH)
    pos = sine_pos_embed_2d(4, 4, WIDTH)
    for b in range(2):
        assert torch.allclose(queries[b, 0], model.core.cls_token[0, 0])
        for i, patch in enumerate(ids[b]):
            assert torch.allclose(queries[b, 1 + i] - model.mask_query[0, 0], pos[patch])
    # position rows: patch (row 1, col 1) = index 5 differs from (row 0, col 0) = index 0
    assert not torch.allclose(pos[0], pos[5])


def test_encoder_mask_covers_exactly_the_masked_patches():
    model = make_pretrainer()
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1, 2] = True
    enc = model.encoder_mask(mask)  # mask patch 8 px, Swin patch 4 px -> 2 x 2 cells each
    assert enc.shape == (1, 8, 8)
    assert enc.sum() == 4 and enc[0, 2:4, 4:6].all()


def test_masked_pixels_never_reach_the_encoder():
    """Changing only the pixels of masked patches leaves the encoder output unchanged."""
    model = make_pretrainer()
    img = torch.randn(1, 3, 32, 32)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 0, 1] = mask[0, 3, 2] = True
    changed = img.clone()
    changed[..., 0:8, 8:16] += 5.
    changed[..., 24:32, 16:24] -= 3.
    with torch.no_grad():
        a = model.core.encode(img, model.encoder_mask(mask))
        b = model.core.encode(changed, model.encoder_mask(mask))
        c = model.core.encode(changed)
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.allclose(a[0], c[0])


def test_patchify_roundtrip_and_layout():
    img = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).view(2, 3, 16, 16)
    patches = patchify(img, 8)
    assert patches.shape == (2, 4, 192)
    # patch 1 is the top-right 8 x 8 block, pixels in (y, x, c) order
    assert torch.equal(patches[0, 1].view(8, 8, 3).permute(2, 0, 1), img[0, :, :8, 8:])
    assert torch.equal(unpatchify(patches, 8, (2, 2)), img)


def test_pretraining_loss_is_over_masked_patches_only():
    model = make_pretrainer()
    img = torch.randn(2, 3, 32, 32)
    torch.manual_seed(3)
    out = model.reconstruct(img)
    patches = patchify(img, 8)
    for b in range(2):
        assert torch.equal(out['target'][b], patches[b, out['ids'][b]])
    # with predictions that do not depend on the image, editing visible patches leaves the
    # loss unchanged while editing a masked patch changes it
    fixed = out['pred'].detach()
    model.reconstruct = lambda x, generator=None: dict(
        pred=fixed, target=model.targets(x, out['ids']))
    base = model.loss(img)['loss_mim']
    assert torch.allclose(base, ((fixed - out['target'])**2).mean())
    visible = (~out['mask'][0]).flatten().nonzero()[0].item()
    masked = out['ids'][0, 0].item()
    edit = img.clone()
    r, c = divmod(visible, 4)
    edit[0, :, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8] += 10.
    assert torch.equal(model.loss(edit)['loss_mim'], base)
    r, c = divmod(masked, 4)
    edit[0, :, r * 8:(r + 1) * 8, c * 8:(c + 1) * 8] += 10.
    assert model.loss(edit)['loss_mim'] > base + 1.


def test_norm_pix_target():
    model = make_pretrainer()
    model.norm_pix_loss = True
    img = torch.rand(1, 3, 32, 32) * 4 + 2
    target = model.targets(img, torch.tensor([[0, 3]]))
    assert torch.allclose(target.mean(-1), torch.zeros(1, 2), atol=1e-5)
    assert torch.allclose(target.var(-1), torch.ones(1, 2), atol=1e-3)


def test_pretrainer_rejects_bad_arguments():
    with pytest.raises(ValueError, match='mask_ratio'):
        GLIDPretrainer(copy.deepcopy(CORE), mask_ratio=1.5)
    with pytest.raises(ValueError, match='multiple of the encoder patch size'):
        GLIDPretrainer(copy.deepcopy(CORE), mask_patch_size=6)


# BiFPN and decoder --------------------------------------------------------------------------
def test_bifpn_fast_normalised_fusion():
    neck = BiFPN(in_channels=(4, 8), out_channels=8, num_layers=1,
                 norm_cfg=dict(type='GN', num_groups=2)).eval()
    feats = [torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)]
    outs = neck(feats)
    assert [tuple(o.shape) for o in outs] == [(1, 8, 8, 8), (1, 8, 4, 4)]
    # a negative weight is clipped to 0 by the ReLU: its input no longer matters
    node = neck.layers[0].top_down[0]
    with torch.no_grad():
        node.weight.copy_(torch.tensor([1., -1.]))
    a = node([torch.ones(1, 8, 2, 2), torch.zeros(1, 8, 2, 2)])
    b = node([torch.ones(1, 8, 2, 2), torch.full((1, 8, 2, 2), 7.)])
    assert torch.equal(a, b)


def test_decoder_is_permutation_equivariant_in_its_queries():
    torch.manual_seed(0)
    dec = GLIDTransformerDecoder(embed_dims=16, num_layers=3, num_heads=2).eval()
    feats = [torch.randn(2, 16, 8 // 2**i, 8 // 2**i) for i in range(4)]
    q = torch.randn(2, 5, 16)
    perm = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        out = dec(q, feats)
        out_p = dec(q[:, perm], feats)
    assert out.shape == (3, 2, 5, 16)
    assert torch.allclose(out[:, :, perm], out_p, atol=1e-5)
    with pytest.raises(ValueError, match='memory level'):
        GLIDTransformerDecoder(16, 1, 2, memory_levels=(5, ))(q, feats)


# fine-tuning queries and partial loading ----------------------------------------------------
def test_finetune_queries_all_equal_cls_at_init():
    model = make_segmentor()
    queries = model.queries(2)
    assert queries.shape == (2, 5, WIDTH)
    assert torch.count_nonzero(model.query_offsets) == 0
    for i in range(5):
        assert torch.equal(queries[1, i], model.core.cls_token[0, 0])


def test_segmentor_is_an_mmseg_segmentor_with_its_dispatch_and_packing():
    """Modes and the packing of predictions are mmseg ``BaseSegmentor``'s: ``padding_size``
    is cut off and the logits are resized to ``ori_shape``."""
    from mmseg.models.segmentors import BaseSegmentor
    from mmseg.structures import SegDataSample
    model = make_segmentor().eval()
    assert isinstance(model, BaseSegmentor)
    inputs = torch.randn(1, 3, 32, 32)
    sample = SegDataSample(metainfo=dict(img_shape=(32, 24), ori_shape=(16, 12),
                                         padding_size=[0, 8, 0, 0]))
    with torch.no_grad():
        hs, f_b = model(inputs, mode='tensor')
        logits = model.encode_decode(inputs)
        pred = model(inputs, [sample], mode='predict')[0]
    assert hs.shape[:3] == (2, 1, 5) and f_b.shape[:2] == (1, WIDTH)
    expected = torch.nn.functional.interpolate(logits[..., :24], size=(16, 12),
                                               mode='bilinear', align_corners=False)[0]
    assert torch.equal(pred.seg_logits.data, expected)
    assert torch.equal(pred.pred_sem_seg.data, expected.argmax(0, keepdim=True))
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(inputs, mode='features')


@pytest.fixture(scope='module')
def pretrained_state():
    model = make_pretrainer()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)  # distinguishable from any fresh initialisation
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize('load', LOAD_CHOICES)
def test_partial_loading_reports_exact_keys(pretrained_state, load):
    fresh = make_segmentor().state_dict()
    model = make_segmentor()
    report = load_glid_pretrained(model, dict(state_dict=pretrained_state), load)
    enc = sorted(k for k in fresh
                 if k.startswith(('core.backbone.', 'core.neck.'))
                 and k != 'core.backbone.mask_token')
    dec = sorted(k for k in fresh if k.startswith('core.decoder.'))
    expected = {
        'none': [],
        'encoder': enc,
        'encoder+decoder': sorted(enc + dec),
        'encoder+decoder+queries': sorted(enc + dec + ['core.cls_token']),
    }[load]
    assert report['loaded'] == expected
    assert report['not_loaded'] == sorted(set(fresh) - set(expected))
    assert select_keys(pretrained_state, load) == expected
    state = model.state_dict()
    for k in expected:
        assert torch.equal(state[k], pretrained_state[k]), k
    for k in report['not_loaded']:
        assert torch.equal(state[k], fresh[k]), k
    # the task-specific parts are never loaded
    assert 'query_offsets' in report['not_loaded']
    assert 'seg_head.fc.weight' in report['not_loaded']


def test_partial_loading_of_a_checkpoint_with_legacy_ffn_keys(pretrained_state):
    """Pre-training checkpoints written when the decoder FFN was ``Sequential`` (keys
    ``ffn.0`` / ``ffn.2``) load like current ones (renamed to timm ``Mlp``'s ``fc1`` / ``fc2``)."""
    legacy = {k.replace('.ffn.fc1.', '.ffn.0.').replace('.ffn.fc2.', '.ffn.2.'): v
              for k, v in pretrained_state.items()}
    assert any(k.startswith('core.decoder.') and '.ffn.0.' in k for k in legacy)
    model = make_segmentor()
    report = load_glid_pretrained(model, dict(state_dict=legacy), 'encoder+decoder')
    state = model.state_dict()
    ffn_keys = [k for k in report['loaded'] if '.ffn.fc' in k]
    assert ffn_keys
    for k in ffn_keys:
        assert torch.equal(state[k], pretrained_state[k]), k
    assert any('.ffn.0.' in k for k in legacy)  # the caller's dict is not renamed in place


def test_partial_loading_through_init_weights_and_errors(pretrained_state, tmp_path):
    path = str(tmp_path / 'pre.pth')
    torch.save(dict(state_dict=pretrained_state), path)
    model = make_segmentor(pretrained=dict(checkpoint=path, load='encoder+decoder+queries'))
    assert 'core.cls_token' in model.pretrained_report['loaded']
    # q_i = CLS + e_i with the pre-trained CLS
    assert torch.equal(model.queries(1)[0, 3], pretrained_state['core.cls_token'][0, 0])

    with pytest.raises(ValueError, match='unknown partial-loading choice'):
        load_glid_pretrained(make_segmentor(), path, 'decoder')
    broken = dict(pretrained_state)
    broken.pop('core.decoder.post_norm.weight')
    with pytest.raises(KeyError, match='lacks 1 key'):
        load_glid_pretrained(make_segmentor(), broken, 'encoder+decoder')
    wrong = dict(pretrained_state)
    wrong['core.cls_token'] = torch.zeros(1, 1, WIDTH + 1)
    with pytest.raises(ValueError, match='shape mismatch'):
        load_glid_pretrained(make_segmentor(), wrong, 'encoder+decoder+queries')
    with pytest.raises(KeyError, match='checkpoint= and load='):
        make_segmentor(pretrained=dict(path=path))
