# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The top-level X-Decoder model: every task's ``predict``, the post-processing rules on
hand-made predictions, beam search on a distribution whose best sequence is known, and
``loss`` through ``XDecoderCriterion`` for every trainable task."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData

from conftest import REPO_ROOT
from mmgen_vision.models.xdecoder import TASKS, XDecoder, beam_search, greedy_search
from mmgen_vision.models.xdecoder import resize_to_original
from mmgen_vision.registry import MODELS

CLASSES = ['red circle', 'blue square', 'green triangle']


def tiny_cfg(**overrides):
    cfg = dict(
        type='XDecoder',
        data_preprocessor=dict(type='mmdet.DetDataPreprocessor', mean=[128.] * 3,
                               std=[64.] * 3, bgr_to_rgb=True, pad_size_divisor=32),
        backbone=dict(type='FocalNet', embed_dims=8, depths=(1, 1, 1, 1), focal_levels=2,
                      focal_windows=3, drop_path_rate=0.),
        pixel_decoder=dict(type='XDecoderPixelDecoder', in_channels=(8, 16, 32, 64),
                           feat_channels=16, out_channels=16, num_encoder_layers=1, num_heads=2,
                           feedforward_channels=32, norm_cfg=dict(type='GN', num_groups=4)),
        decoder=dict(type='XDecoderTransformerDecoder', in_channels=16, embed_dims=16,
                     num_queries=6, num_heads=2, feedforward_channels=32, num_layers=2,
                     mask_channels=16, proj_dim=16),
        lang_encoder=dict(type='XDecoderLanguageEncoder', width=16, layers=2, heads=2,
                          proj_dim=16, templates=['{}.', 'a photo of a {}.']),
        class_names=CLASSES,
        criterion=dict(
            type='XDecoderCriterion', num_points=64,
            matcher=dict(type='PointSampledMatcher', num_points=64),
            grounding_matcher=dict(
                type='PointSampledMatcher', num_points=64,
                match_costs=[dict(type='QuerySoftmaxCost', weight=2.0),
                             dict(type='mmdet.CrossEntropyLossCost', weight=5.0,
                                  use_sigmoid=True),
                             dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
            num_semantic_predictions=2),
        test_cfg=dict(caption_steps=4))
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg()).eval()


def batch(model, task, metas=None, sizes=((64, 64), (48, 56)), with_gt=False):
    torch.manual_seed(1)
    images, samples = [], []
    for i, (h, w) in enumerate(sizes):
        images.append(torch.randint(0, 255, (3, h, w), dtype=torch.uint8))
        meta = dict(img_shape=(h, w), ori_shape=(2 * h, 2 * w), task=task)
        meta.update((metas or [{}] * len(sizes))[i])
        sample = DetDataSample(metainfo=meta)
        if with_gt:
            masks = torch.zeros(2, h, w, dtype=torch.bool)
            masks[0, :h // 2], masks[1, h // 2:] = True, True
            sample.gt_instances = InstanceData(labels=torch.tensor([0, 2]), masks=masks)
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples), with_gt)
    return data['inputs'], data['data_samples']


@torch.no_grad()
def test_semseg_predict(model):
    inputs, samples = batch(model, 'semantic')
    model.predict(inputs, samples)
    for sample in samples:
        h, w = sample.ori_shape
        label, prob = sample.pred_sem_seg.data[0], sample.seg_logits.data
        assert label.shape == (h, w) and prob.shape == (3, h, w)
        valid = label != 255
        assert torch.equal(label[valid], prob.argmax(0)[valid])
        assert (prob.max(0).values[~valid] <= 0.5).all()
    # class names from the metainfo override the config's
    inputs, samples = batch(model, 'semantic', [dict(classes=['cat', 'dog'])] * 2)
    model.predict(inputs, samples)
    assert samples[0].seg_logits.data.shape[0] == 2


def test_semantic_inference_rule(model):
    # 2 queries, 2 classes + background; query 0 is class 0 on the left half
    logits = torch.tensor([[10., 0., 0.], [0., 0., 10.]])
    masks = torch.full((2, 8, 8), -10.)
    masks[0, :, :4] = 10.
    sample = DetDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                         batch_input_shape=(32, 32)))
    model.fusion_head.semantic(logits, resize_to_original(masks, sample.metainfo), sample)
    label = sample.pred_sem_seg.data[0]
    assert (label[:, :12] == 0).all()  # confident class 0
    assert (label[:, 20:] == 255).all()  # no class above mask_thr: ignored


def test_instance_inference_rule(model):
    logits = torch.tensor([[0., 8., 0.], [0., 0., 8.]])  # query 0: class 1
    masks = torch.full((2, 8, 8), -8.)
    masks[0, :4] = 8.
    sample = DetDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                         batch_input_shape=(32, 32)))
    model.fusion_head.instance(logits, resize_to_original(masks, sample.metainfo), sample)
    inst = sample.pred_instances
    best = inst.scores.argmax()
    assert inst.labels[best] == 1
    assert inst.masks[best][:14].all() and not inst.masks[best][18:].any()
    prob = logits.softmax(-1)[0, 1]
    resized = resize_to_original(masks[:1], sample.metainfo)[0]
    inside = resized > 0
    mask_score = resized.sigmoid()[inside].mean()  # mean probability inside the mask
    assert 0.95 < mask_score < 1
    assert math.isclose(inst.scores[best].item(), (prob * mask_score).item(), rel_tol=1e-5)
    assert inst.bboxes.shape == (len(inst.scores), 4)
    assert inst.bboxes[best].tolist()[:2] == [0., 0.]


def test_panoptic_inference_rule(model):
    names = ['thing', 'stuff']
    logits = torch.tensor([[9., 0., 0.], [0., 9., 0.], [9., 0., 0.], [0., 0., 9.]])
    masks = torch.full((4, 8, 8), -9.)
    masks[0, :, :4] = 9.  # thing instance 1: left
    masks[1, :, 4:] = 9.  # stuff: right
    masks[2, :, :4] = 9.  # duplicate of query 0: loses the argmax, dropped by overlap_thr
    sample = DetDataSample(metainfo=dict(img_shape=(32, 32), ori_shape=(32, 32),
                                         batch_input_shape=(32, 32), thing_classes=['thing']))
    model.fusion_head.panoptic(logits, resize_to_original(masks, sample.metainfo), sample, names,
                               names)
    pan = sample.pred_panoptic_seg.sem_seg[0]
    assert (pan[:, :14] == 0 + INSTANCE_OFFSET).all()
    assert (pan[:, 18:] == 1).all()
    assert set(pan.unique().tolist()) <= {INSTANCE_OFFSET, 1, 2}


@torch.no_grad()
def test_instance_and_panoptic_predict(model):
    inputs, samples = batch(model, 'instance')
    model.predict(inputs, samples)
    inst = samples[1].pred_instances
    assert inst.masks.shape[1:] == samples[1].ori_shape and (inst.labels < 3).all()
    inputs, samples = batch(model, 'panoptic', [dict(thing_classes=CLASSES[:1])] * 2)
    model.predict(inputs, samples)
    assert samples[0].pred_panoptic_seg.sem_seg.shape[1:] == samples[0].ori_shape


@torch.no_grad()
def test_referring_batch_equals_single_images(model):
    metas = [dict(text='the red circle'), dict(text='a blue square.the green triangle')]
    inputs, samples = batch(model, 'referring', metas, sizes=((64, 64), (64, 64)))
    model.predict(inputs, samples)
    assert len(samples[0].pred_instances) == 1 and len(samples[1].pred_instances) == 2
    assert samples[1].pred_sem_seg.data.shape == (1, 128, 128)
    for i in range(2):  # padding of the phrase tokens does not change the result
        single, single_samples = inputs[i:i + 1], [samples[i].clone()]
        model.predict(single, single_samples)
        torch.testing.assert_close(single_samples[0].pred_instances.scores,
                                   samples[i].pred_instances.scores, atol=1e-5, rtol=1e-4)
        assert torch.equal(single_samples[0].pred_instances.masks,
                           samples[i].pred_instances.masks)


@torch.no_grad()
def test_retrieval_predict(model):
    texts = ['a red circle', 'a dog', 'a green triangle']
    inputs, samples = batch(model, 'retrieval', [dict(texts=texts)] * 2)
    model.predict(inputs, samples)
    for sample in samples:
        assert sample.image_embeds.shape == (16, ) and sample.text_embeds.shape == (3, 16)
        cos = torch.nn.functional.cosine_similarity(sample.image_embeds[None],
                                                    sample.text_embeds)
        scale = model.lang_encoder.logit_scale.exp().clamp(max=100)
        torch.testing.assert_close(sample.retrieval_logits, scale * cos, atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_caption_greedy_and_beam(model):
    inputs, samples = batch(model, 'caption')
    model.predict(inputs, samples)
    tok = model.lang_encoder.tokenizer
    for sample in samples:
        ids = sample.pred_caption_ids
        assert ids[0] == tok.sot_token_id and 2 <= len(ids) <= 5
        assert sample.pred_caption == tok.decode(ids)
    model.test_cfg['beam_size'] = 3
    try:
        model.predict(inputs, samples)
    finally:
        model.test_cfg['beam_size'] = 1
    assert all(s.pred_caption_ids[0] == tok.sot_token_id for s in samples)
    # reference captions in the metainfo: retrieval embeddings come along (RetrievalMetric)
    inputs, samples = batch(model, 'caption', [dict(captions=['a red circle', 'a dog'])] * 2)
    model.predict(inputs, samples)
    assert samples[0].text_embeds.shape == (2, 16) and samples[0].image_embeds.shape == (16, )


def _toy_step(table):
    """``step_fn`` of a Markov model: the distribution depends on the last token."""
    def step(ids):
        return torch.stack([table[int(i)] for i in ids[:, -1]]).log()
    return step


def test_beam_search_finds_the_best_sequence():
    eos, a, b, start = 0, 1, 2, 3
    table = {
        start: torch.tensor([0.0001, 0.6, 0.3999, 0.]),  # greedy takes A ...
        a: torch.tensor([0.45, 0.3, 0.25, 0.]),  # ... then EOS: 0.6 * 0.45 = 0.27
        b: torch.tensor([0.99, 0.005, 0.005, 0.]),  # B, EOS: 0.3999 * 0.99 = 0.396
    }
    starts = torch.tensor([[start], [start]])
    greedy = greedy_search(_toy_step(table), starts, 5, eos)
    assert greedy[0].tolist() == [start, a, eos]
    seqs, scores = beam_search(_toy_step(table), starts, 5, eos, beam_size=2)
    assert [s.tolist() for s in seqs] == [[start, b, eos]] * 2
    torch.testing.assert_close(scores, torch.full((2, ), math.log(0.3999 * 0.99)))
    seqs, _ = beam_search(_toy_step(table), starts, 5, eos, beam_size=1)
    assert seqs[0].tolist() == [start, a, eos]  # beam 1 is greedy


def test_beam_search_without_eos_respects_max_steps():
    table = {0: torch.tensor([0.1, 0.9]), 1: torch.tensor([0.1, 0.9])}
    seqs, scores = beam_search(_toy_step(table), torch.tensor([[1]]), 3, eos_id=0,
                               beam_size=2)
    # best: 1 1 1 1 (0.729) vs any ending with EOS (<= 0.081)
    assert seqs[0].tolist() == [1, 1, 1, 1]
    assert math.isclose(scores[0].item(), 3 * math.log(0.9), rel_tol=1e-5)


@torch.no_grad()
def test_vqa_and_compositions(model):
    metas = [dict(question='what shape is red?', answer_candidates=['circle', 'square'])] * 2
    inputs, samples = batch(model, 'vqa', metas)
    model.predict(inputs, samples)
    assert samples[0].pred_answer in ('circle', 'square')
    assert samples[0].answer_scores.shape == (2, )
    inputs, samples = batch(model, 'ref-caption', [dict(text='the red circle')] * 2)
    model.predict(inputs, samples)
    assert isinstance(samples[0].pred_caption, str) and len(samples[0].pred_instances) == 1
    inputs, samples = batch(model, 'region-retrieval', [dict(text='the red circle')] * 2)
    model.predict(inputs, samples)
    assert samples[0].retrieval_logits.shape == (1, ) and len(samples[1].pred_instances) == 1


@pytest.mark.parametrize('task', ['semantic', 'referring', 'caption', 'retrieval'])
def test_loss_every_task(task):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).train()
    texts = {'semantic': None, 'referring': 'the red circle.the green triangle',
             'caption': 'a red circle above a green triangle',
             'retrieval': 'a red circle above a green triangle'}[task]
    metas = [dict(text=texts)] * 2 if texts else None
    inputs, samples = batch(model, task, metas, sizes=((64, 64), (64, 64)), with_gt=True)
    losses = model.loss(inputs, samples)
    expected = {'semantic': 'loss_mask', 'referring': 'loss_grd_dice', 'caption': 'loss_caption',
                'retrieval': 'loss_retrieval'}[task]
    assert expected in losses, sorted(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.decoder.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    if task != 'semantic':
        assert model.lang_encoder.lang_proj.grad is not None


def test_bad_inputs(model):
    with pytest.raises(ValueError, match='unknown X-Decoder task'):
        MODELS.build(tiny_cfg(task='depth'))
    with pytest.raises(KeyError, match='unknown test_cfg keys'):
        MODELS.build(tiny_cfg(test_cfg=dict(mask_threshold=0.5)))
    inputs, samples = batch(model, 'semantic')
    samples[1].set_metainfo(dict(task='caption'))
    with pytest.raises(ValueError, match='mixes X-Decoder tasks'):
        model.predict(inputs, samples)
    with pytest.raises(RuntimeError, match='invalid mode'):
        model(inputs, samples, mode='bad')
    _, samples = batch(model, 'semantic')
    with pytest.raises(KeyError, match='gt_instances'):
        model.train()
        try:
            model.loss(inputs, samples)
        finally:
            model.eval()


@torch.no_grad()
def test_other_backbone_and_pixel_decoder():
    cfg = tiny_cfg(
        backbone=dict(type='mmdet.ResNet', depth=18, num_stages=4, out_indices=(0, 1, 2, 3),
                      norm_cfg=dict(type='BN', requires_grad=True), init_cfg=None),
        pixel_decoder=dict(
            type='mmdet.MSDeformAttnPixelDecoder', in_channels=[64, 128, 256, 512],
            strides=[4, 8, 16, 32], feat_channels=16, out_channels=16, num_outs=3,
            norm_cfg=dict(type='GN', num_groups=4), act_cfg=dict(type='ReLU'),
            encoder=dict(num_layers=1, layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=16, num_heads=2, num_levels=3, num_points=2,
                                   dropout=0., batch_first=True),
                ffn_cfg=dict(embed_dims=16, feedforward_channels=32, num_fcs=2, ffn_drop=0.,
                             act_cfg=dict(type='ReLU', inplace=True)))),
            positional_encoding=dict(num_feats=8, normalize=True)))
    model = MODELS.build(cfg).eval()
    inputs, samples = batch(model, 'semantic')
    model.predict(inputs, samples)
    assert samples[0].pred_sem_seg.data.shape == (1, 128, 128)


def test_loss_joint_batch_groups_tasks():
    """A multi-source batch (panoptic + referring + captions) is split by task, each group
    cropped back to its own padded size."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).train()
    images, samples = [], []
    specs = [('panoptic', 64, None), ('panoptic', 64, None), ('referring', 64, ['the circle']),
             ('caption', 32, 'a red circle'), ('caption', 32, 'a blue square')]
    for task, size, text in specs:
        images.append(torch.randint(0, 255, (3, size, size), dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                             task=task, text=text))
        masks = torch.zeros(1, size, size, dtype=torch.bool)
        masks[0, :size // 2] = True
        sample.gt_instances = InstanceData(labels=torch.tensor([1]), masks=masks)
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=images, data_samples=samples), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'panoptic.loss_mask' in losses and 'referring.loss_grd_ce' in losses
    assert 'caption.loss_caption' in losses and 'caption.loss_retrieval' in losses
    assert data['data_samples'][3].batch_input_shape == (32, 32)  # cropped group
    sum(v for k, v in losses.items() if 'loss' in k).backward()


def test_generic_targets_add_stuff_from_semantic_map(model):
    """mmdet's panoptic loading keeps stuff only in ``gt_sem_seg``: every stuff class present
    becomes one more target mask (things stay as given)."""
    sample = DetDataSample(metainfo=dict(img_shape=(4, 4)))
    things = torch.zeros(1, 4, 4, dtype=torch.bool)
    things[0, 0, 0] = True
    sample.gt_instances = InstanceData(labels=torch.tensor([0]), masks=things)
    seg = torch.full((1, 4, 4), 255)
    seg[0, 2:] = 2  # stuff class 2 on the bottom half
    seg[0, 0, 0] = 0
    sample.gt_sem_seg = PixelData(sem_seg=seg)
    labels, masks = model.head.generic_targets(sample, (8, 8), stuff=[1, 2])
    assert labels.tolist() == [0, 2]  # class 1 absent: no target
    assert masks.shape == (2, 8, 8) and masks[1, 2:4, :4].all() and masks[1].sum() == 8


CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'xdecoder', 'xdecoder_*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_configs_parse(path):
    cfg = Config.fromfile(path)
    if 'recipe' in path:  # the shared optimisation recipe
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys['backbone'].lr_mult == 0.1
        assert cfg.optim_wrapper.clip_grad.max_norm == 5.0
        return
    assert cfg.model.type == 'XDecoder' and cfg.default_scope == 'mmgen_vision'
    assert XDecoder.check_task(cfg.model.task) in TASKS
    if 'toy' in path:  # toys inherit the paper config and shrink it
        assert cfg.model.decoder.num_queries < 101 and cfg.model.backbone.type == 'FocalNet'


def test_paper_config_reads_like_the_paper():
    cfg = Config.fromfile(osp.join(osp.dirname(CONFIGS[0]),
                                   'xdecoder_focalt_8xb4-50e_coco-joint.py'))
    dec, bb = cfg.model.decoder, cfg.model.backbone
    assert (dec.num_queries, dec.num_layers, dec.embed_dims) == (101, 9, 512)
    assert (bb.embed_dims, tuple(bb.depths), bb.drop_path_rate) == (96, (2, 2, 6, 2), 0.3)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.param_scheduler[0].milestones == [44, 48]
    model = MODELS.build(cfg.model)
    assert len(model.class_names) == 133 and len(model.thing_classes) == 80
    toy = Config.fromfile(osp.join(osp.dirname(CONFIGS[0]), 'xdecoder_toy_shapesworld-joint.py'))
    assert toy.model.decoder.num_layers == 3 and toy.model.class_names[-1] == 'ground'


def test_state_dict_keys_survive_the_head_split():
    """Head and fusion head hold no state: checkpoints written before the split (keys
    ``backbone.`` / ``pixel_decoder.`` / ``decoder.`` / ``lang_encoder.``, the converter's
    layout) load strictly and give the same outputs."""
    torch.manual_seed(0)
    old = MODELS.build(tiny_cfg()).eval()
    prefixes = {k.split('.')[0] for k in old.state_dict()}
    assert prefixes == {'backbone', 'pixel_decoder', 'decoder', 'lang_encoder'}, prefixes
    torch.manual_seed(1)
    new = MODELS.build(tiny_cfg()).eval()
    new.load_state_dict(old.state_dict(), strict=True)
    inputs, samples = batch(old, 'semantic')
    with torch.no_grad():
        ours = new.predict(inputs, [s.clone() for s in samples])
        ref = old.predict(inputs, samples)
    for a, b in zip(ours, ref):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)
