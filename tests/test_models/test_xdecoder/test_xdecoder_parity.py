# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder against the OpenMMLab port's outputs (``shared/parity/xdecoder_tiny.pt``): the
official checkpoint layout is converted, loaded strictly, and every task's outputs
(semantic segmentation, referring segmentation, captioning, retrieval) are reproduced."""
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample

from conftest import (REPO_ROOT, assert_parity_close, build_converted_model, load_converter,
                      load_parity_fixture)
from mmgen_vision.models.xdecoder import XDecoder
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import TASK_ALIASES

CONVERTER = osp.join(REPO_ROOT, 'tools', 'model_converters', 'xdecoder_to_mmgv.py')

#: The fixture's tiny configuration in our terms.
TINY_CFG = dict(
    type='XDecoder',
    data_preprocessor=dict(
        type='mmdet.DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32),
    backbone=dict(type='FocalNet', embed_dims=32, depths=(1, 1, 1, 1), focal_levels=3,
                  focal_windows=3, drop_path_rate=0.3, use_conv_embed=True, use_postln=True,
                  use_layerscale=True, scaling_modulator=True),
    pixel_decoder=dict(type='XDecoderPixelDecoder', in_channels=(32, 64, 128, 256),
                       feat_channels=32, out_channels=32, num_encoder_layers=2, num_heads=4,
                       feedforward_channels=64),
    decoder=dict(type='XDecoderTransformerDecoder', in_channels=32, embed_dims=32,
                 num_queries=101, num_heads=4, feedforward_channels=64, num_layers=3,
                 mask_channels=32, proj_dim=32, context_length=77),
    lang_encoder=dict(type='XDecoderLanguageEncoder', width=32, layers=12, heads=8, proj_dim=32,
                      eps=1e-12),
    test_cfg=dict(caption_steps=5, mask_thr=0.5, ignore_index=255, use_thr_for_mc=True))


def _load_converter():
    return load_converter('xdecoder_to_mmgv')


@pytest.fixture(scope='module')
def fixture():
    return load_parity_fixture('xdecoder_tiny.pt')


@pytest.fixture(scope='module')
def model(fixture):
    return build_converted_model(TINY_CFG, fixture['state_dict'],
                                 _load_converter().convert_xdecoder)




def make_batch(fixture, task: str, text=None):
    """Preprocessed inputs and data samples of one task of the fixture."""
    inputs = fixture['inputs']
    images, samples = [], []
    for idx in inputs[task]['image_indices']:
        images.append(inputs['images_bgr_uint8'][idx].permute(2, 0, 1).contiguous())
        meta = dict(img_shape=tuple(inputs['img_shape'][idx]),
                    ori_shape=tuple(inputs['ori_shape'][idx]),
                    task=TASK_ALIASES.get(task, task))  # fixture key -> task name
        if text is not None:
            meta['text'] = text
        samples.append(DetDataSample(metainfo=meta))
    return images, samples


def preprocess(model, fixture, task, text=None):
    images, samples = make_batch(fixture, task, text)
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples), False)
    return data['inputs'], data['data_samples']


def test_config_matches_fixture(fixture):
    cfg = fixture['config']['model']
    bb, pd = cfg['backbone'], cfg['head']['pixel_decoder']
    dec = cfg['head']['transformer_decoder']
    assert TINY_CFG['backbone']['embed_dims'] == bb['embed_dim']
    assert list(TINY_CFG['backbone']['depths']) == bb['depths']
    assert TINY_CFG['pixel_decoder']['num_encoder_layers'] == pd['transformer_enc_layers']
    assert TINY_CFG['pixel_decoder']['feedforward_channels'] == pd['transformer_dim_feedforward']
    assert TINY_CFG['decoder']['num_layers'] == dec['decoder_layers']
    assert TINY_CFG['decoder']['num_queries'] == dec['num_queries']
    assert TINY_CFG['decoder']['num_heads'] == dec['nheads']
    assert TINY_CFG['lang_encoder']['eps'] == fixture['config']['lang_encoder_fixed'][
        'layernorm_eps']


def test_strict_load_and_dropped_keys(fixture):
    converted = _load_converter().convert_xdecoder(fixture['state_dict'])
    # only the attention-mask buffer (re-derived from the rules) is not a weight of ours
    assert len(converted) == len(fixture['state_dict']) - 1
    assert 'decoder.caption_pos_embed.weight' in converted


def test_semseg(fixture, model):
    out = fixture['outputs']['semseg']
    inputs, samples = preprocess(model, fixture, 'semseg', fixture['inputs']['semseg']['text'])
    assert torch.equal(inputs, fixture['inputs']['semseg']['batch_inputs'])
    with torch.no_grad():
        feats = model.backbone(inputs)
        for key, value in out['backbone'].items():
            assert_parity_close(fixture, f'semseg.backbone.{key}', feats[key], value)
        mask_features, multi_scale = model.extract_feat(inputs)
        assert_parity_close(fixture, 'semseg.pixel_decoder.mask_features', mask_features,
                     out['pixel_decoder']['mask_features'])
        for ours, ref in zip(multi_scale, out['pixel_decoder']['multi_scale_features']):
            assert_parity_close(fixture, 'semseg.pixel_decoder.multi_scale_features', ours, ref)
        names = fixture['inputs']['semseg']['text'].split('.')
        assert model.lang_encoder.templates == fixture['inputs']['semseg']['prompt_templates']
        assert_parity_close(fixture, 'semseg.text_embeddings', model.class_embeddings(names),
                     out['text_embeddings'])
        preds = model.decode(inputs, 'semantic', class_names=names)
        raw = model.decoder(multi_scale, mask_features)
        model.predict(inputs, samples)
    last = preds[-1]
    assert_parity_close(fixture, 'semseg.decoder.pred_logits', last['pred_logits'],
                 out['decoder']['pred_logits'])
    assert_parity_close(fixture, 'semseg.decoder.pred_masks', last['pred_masks'],
                 out['decoder']['pred_masks'])
    assert_parity_close(fixture, 'semseg.decoder.pred_class_embed', last['class_embeds'],
                 out['decoder']['pred_class_embed'])
    assert len(preds) == out['decoder_per_layer']['class_embed'].shape[0]
    for k, pred in enumerate(preds):
        assert_parity_close(fixture, 'semseg.decoder_per_layer.class_embed', pred['class_embeds'],
                     out['decoder_per_layer']['class_embed'][k])
        flips = (raw[k]['attn_mask'] != out['decoder_per_layer']['attn_mask'][k]).sum().item()
        assert flips <= 2, f'attention mask of head {k}: {flips} entries differ'
    for i, sample in enumerate(samples):
        assert_parity_close(fixture, 'semseg.sem_seg_prob', sample.seg_logits.data,
                     out['sem_seg_prob'][i])
        stable = out['sem_seg_stable'][i]
        assert stable.float().mean() > 0.5
        label = sample.pred_sem_seg.data[0]
        assert torch.equal(label[stable], out['sem_seg'][i][stable])


@pytest.mark.parametrize('case', ['refseg', 'refseg_2phrases'])
def test_referring(fixture, model, case):
    out = fixture['outputs'][case]
    text = fixture['inputs'][case]['text']
    inputs, samples = preprocess(model, fixture, case, text)
    for s in samples:
        s.set_metainfo(dict(task='referring'))
    with torch.no_grad():
        phrases = text.split('.')
        tokens, pooled, mask = model.lang_encoder.encode_texts(phrases)
        assert torch.equal(mask.long(), fixture['inputs'][case]['attention_mask'])
        assert_parity_close(fixture, f'{case}.text.token_emb', tokens, out['text']['token_emb'])
        assert_parity_close(fixture, f'{case}.text.class_emb', pooled, out['text']['class_emb'])
        grounding, padding, _ = model._phrase_tokens([phrases])
        assert not padding.any()
        assert_parity_close(fixture, f'{case}.text.grounding_tokens', grounding.transpose(0, 1),
                     out['text']['grounding_tokens'])
        preds = model.decode(inputs, 'referring', phrases=[phrases])
        results, _ = model._referring(inputs, samples, 'referring')
        model.predict(inputs, samples)
    for k, pred in enumerate(preds):
        embeds = torch.cat([pred['class_embeds'], pred['grd_class_embeds']], dim=1)
        assert_parity_close(fixture, f'{case}.decoder.pred_class_embed', embeds,
                     out['decoder_per_layer']['class_embed'][k])
    res = results[0]
    assert_parity_close(fixture, f'{case}.decoder.pred_masks', res['low_res'][None],
                 out['decoder']['pred_masks'])
    assert_parity_close(fixture, f'{case}.decoder.pred_logits', res['pred_logits'][None],
                 out['decoder']['pred_logits'])
    assert_parity_close(fixture, f'{case}.instance_inputs.mask_pred', res['mask_pred'],
                 out['instance_inputs']['mask_pred'])
    assert_parity_close(fixture, f'{case}.scores', samples[0].pred_instances.scores, out['scores'])
    assert torch.equal(samples[0].pred_instances.labels, out['labels'])
    stable = out['masks_stable']
    masks = samples[0].pred_instances.masks.float()
    assert torch.equal(masks[stable], out['masks'][stable])


def test_caption(fixture, model):
    out = fixture['outputs']['caption']
    inputs, samples = preprocess(model, fixture, 'caption')
    tok = model.lang_encoder.tokenizer
    with torch.no_grad():
        model.predict(inputs, samples)
        # the port decodes with all 77 positions (start tokens after the prefix): per-step
        # outputs over the whole context, from our decoder with the same ids
        mask_features, feats = model.extract_feat(inputs)
        ids = out['start_token'].repeat(inputs.shape[0], 1)
        for step in range(out['step_outputs_caption'].shape[0]):
            tokens, _ = model.lang_encoder.encode_ids(ids)
            pred = model.decoder(feats, mask_features, text_tokens=tokens)[-1]
            assert_parity_close(fixture, 'caption.step_outputs_caption', pred['text_embeds'],
                         out['step_outputs_caption'][step])
            logits = pred['text_embeds'][:, step] @ model.lang_encoder.token_embedding.t()
            top, top_ids = logits.topk(5, dim=-1)
            assert_parity_close(fixture, 'caption.step_top5_logits', top, out['step_top5_logits'][step])
            assert torch.equal(top_ids, out['step_top5_ids'][step])
            ids[:, step + 1] = top_ids[:, 0]
    assert torch.equal(ids, out['token_ids'])
    steps = out['step_outputs_caption'].shape[0]
    for i, sample in enumerate(samples):
        # our greedy decoder feeds only the prefix (causal: identical outputs)
        assert torch.equal(sample.pred_caption_ids, out['token_ids'][i, :steps + 1])
        assert sample.pred_caption == tok.decode(out['token_ids'][i, :steps + 1])
        assert sample.pred_caption == out['text'][i]


def test_retrieval(fixture, model):
    out = fixture['outputs']['retrieval']
    texts = fixture['inputs']['retrieval']['texts']
    inputs, samples = preprocess(model, fixture, 'retrieval')
    for s in samples:
        s.set_metainfo(dict(texts=texts))
    with torch.no_grad():
        _, pooled, _ = model.lang_encoder.encode_texts(texts)
        model.predict(inputs, samples)
    assert_parity_close(fixture, 'retrieval.class_emb', pooled / pooled.norm(dim=-1, keepdim=True),
                 out['class_emb'])
    assert_parity_close(fixture, 'retrieval.pred_logits', samples[0].retrieval_logits[None],
                 out['pred_logits'])


def test_model_class():
    assert MODELS.get('XDecoder') is XDecoder
