# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter model behaviour: prompt-feature cache, windowed blocks, activation checkpointing,
in-context prediction + decoding, the inferencer and the demo."""
import copy
import os.path as osp
import subprocess
import sys
from unittest import mock

import mmcv
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

import mmgen_vision.models  # noqa: F401
from conftest import REPO_ROOT
from mmgen_vision.registry import MODELS



def tiny_cfg(**backbone):
    cfg = dict(
        type='Painter',
        backbone=dict(type='PainterViT', img_size=(32, 16), patch_size=4, embed_dims=32,
                      num_layers=5, num_heads=2, drop_path_rate=0., pretrain_img_size=16,
                      merge_index=1, out_indices=(1, 2, 3, 4)),
        head=dict(type='PainterHead', in_channels=32, num_taps=4, patch_size=4, embed_dims=8),
        mask_generator=dict(ratio=0.5, min_block=2, max_block=16),
        codecs=dict(semantic=dict(type='SemanticCodec', num_classes=7),
                    depth=dict(type='DepthCodec', max_depth=10.)))
    cfg['backbone'].update(backbone)
    return cfg


def _randomize(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)  # non-trivial tokens, rel-pos tables, norms
    return model


def _canvases(batch=3, same_prompt=True):
    g = torch.Generator().manual_seed(1)
    imgs = torch.randn(batch, 3, 32, 16, generator=g)
    tgts = torch.randn(batch, 3, 32, 16, generator=g)
    if same_prompt:
        imgs[:, :, :16] = imgs[:1, :, :16]
        tgts[:, :, :16] = tgts[:1, :, :16]
    return imgs, tgts


def test_prompt_cache_matches_uncached_path():
    model = _randomize(MODELS.build(tiny_cfg(prompt_isolation=True))).eval()
    imgs, tgts = _canvases()
    with torch.no_grad():
        ref = model.predict_canvas(imgs, tgts, use_cache=False)
        with mock.patch.object(model.backbone, 'encode_prompt',
                               wraps=model.backbone.encode_prompt) as encode:
            out1 = model.predict_canvas(imgs, tgts, use_cache=True)
            out2 = model.predict_canvas(imgs[:2], tgts[:2], use_cache=True)  # same prompt
            assert encode.call_count == 1  # computed once, reused for the next queries
            imgs2, tgts2 = _canvases()
            imgs2[:, :, :16] += 1.  # another prompt: recomputed
            out3 = model.predict_canvas(imgs2, tgts2, use_cache=True)
            assert encode.call_count == 2
        ref3 = model.predict_canvas(imgs2, tgts2, use_cache=False)
    assert (out1 - ref).abs().max() < 1e-5
    assert (out2 - ref[:2]).abs().max() < 1e-5
    assert (out3 - ref3).abs().max() < 1e-5
    # the query's own content matters (the cache is not returning a stale answer)
    assert (ref[0] - ref[1]).abs().max() > 1e-3
    # the visible bottom target is ignored: it is masked in the uncached path too
    tgts_changed = tgts.clone()
    tgts_changed[:, :, 16:] = 0.
    with torch.no_grad():
        assert torch.allclose(model.predict_canvas(imgs, tgts_changed, use_cache=False), ref,
                              atol=1e-6)


def test_prompt_cache_needs_isolation_and_one_prompt():
    with pytest.raises(ValueError, match='prompt_isolation'):
        MODELS.build(dict(tiny_cfg(), test_cfg=dict(use_cache=True)))
    model = MODELS.build(tiny_cfg(prompt_isolation=True)).eval()
    imgs, tgts = _canvases(same_prompt=False)
    with pytest.raises(ValueError, match='one prompt per batch'):
        model.predict_canvas(imgs, tgts, use_cache=True)


def test_windowed_block_equals_global_when_window_covers_grid():
    # a square 4x4 grid: a 4x4 window is the whole grid, rel-pos tables have the same size
    glob = _randomize(MODELS.build(tiny_cfg(img_size=(16, 16), merge_index=0,
                                            out_indices=(0, 1, 2, 4)))).eval()
    win = MODELS.build(tiny_cfg(img_size=(16, 16), merge_index=0, out_indices=(0, 1, 2, 4),
                                window_size=4, window_block_indexes=(1, 2))).eval()
    win.load_state_dict(glob.state_dict())
    imgs = torch.randn(2, 3, 16, 16)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[:, 8:] = True
    with torch.no_grad():
        assert torch.allclose(glob.forward_canvas(imgs, imgs, mask),
                              win.forward_canvas(imgs, imgs, mask), atol=1e-5)
    # smaller windows (with padding of a 2x2 grid into 3x3 windows) run and differ
    win3 = MODELS.build(tiny_cfg(img_size=(16, 16), merge_index=0, out_indices=(0, 1, 2, 4),
                                 window_size=3, window_block_indexes=(1, )))
    assert win3.backbone.blocks[1].attn.rel_pos_h.shape == (5, 16)
    assert win3.forward_canvas(imgs, imgs, mask).shape == (2, 3, 16, 16)


def test_activation_checkpointing_same_loss_and_grads():
    ref = _randomize(MODELS.build(tiny_cfg())).train()
    cp = MODELS.build(tiny_cfg(with_cp=True)).train()
    cp.load_state_dict(ref.state_dict())
    imgs, tgts = _canvases(2, same_prompt=False)
    mask = torch.zeros(2, 32, dtype=torch.bool)
    mask[:, 10:27] = True
    valid = torch.ones_like(tgts)
    l1 = ref.forward_train(imgs, tgts, mask, valid)[0]
    l2 = cp.forward_train(imgs, tgts, mask, valid)[0]
    l1.backward()
    l2.backward()
    assert torch.allclose(l1, l2, atol=1e-6)
    for (n, p1), p2 in zip(ref.named_parameters(), cp.parameters()):
        assert torch.allclose(p1.grad, p2.grad, atol=1e-5), n


def test_predict_decodes_with_the_task_codec():
    model = MODELS.build(tiny_cfg()).eval()
    canvas = torch.randint(0, 255, (3, 32, 16), dtype=torch.uint8)
    samples = []
    for task in ('semantic', 'depth'):
        s = BaseDataElement(metainfo=dict(task=task, ori_shape=(20, 24)))
        s.target = canvas.clone()
        samples.append(s)
    data = model.data_preprocessor(dict(inputs=[canvas, canvas], data_samples=samples), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert out[0].pred_sem_seg.data.shape == (1, 20, 24)
    assert out[0].pred_sem_seg.data.max() < 7
    assert out[1].pred_depth_map.data.shape == (1, 20, 24)
    assert out[1].pred_painting.data.shape == (3, 20, 24)
    # the decoded depth is the codec applied to the painted image
    depth = model.codecs['depth'].decode(out[1].pred_painting.data)
    assert torch.allclose(out[1].pred_depth_map.data[0], depth.clamp(min=10 / 510), atol=1e-5)
    bad = BaseDataElement(metainfo=dict(task='pose'))
    bad.target = canvas
    with pytest.raises(KeyError, match="no codec for task 'pose'"):
        model(**model.data_preprocessor(dict(inputs=[canvas], data_samples=[bad])),
              mode='predict')
    with pytest.raises(KeyError, match='target'):
        model.data_preprocessor(dict(inputs=[canvas], data_samples=[BaseDataElement()]))


def test_paintings_are_resized_back_with_each_codecs_interpolation():
    """Depth / semantic paintings come back to ``ori_shape`` bilinearly (the release), restored
    images bicubically (the query went into the canvas bicubically), clamped to 0-255."""
    import torch.nn.functional as F
    cfg = tiny_cfg()
    cfg['codecs']['denoise'] = dict(type='RestorationCodec')
    model = MODELS.build(cfg).eval()
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 3, 16, 16, generator=g) * 255
    pred[:, :, ::2] = pred[:, :, ::2].clamp(max=40)  # sharp stripes: the modes differ
    samples = [BaseDataElement(metainfo=dict(task=t, ori_shape=(23, 29)))
               for t in ('depth', 'denoise')]
    model.decode_samples(pred, samples)

    def up(x, mode):
        return F.interpolate(x[None], size=(23, 29), mode=mode, align_corners=False)[0]

    assert torch.allclose(samples[0].pred_painting.data, up(pred[0], 'bilinear'))
    bicubic = up(pred[1], 'bicubic')
    assert torch.allclose(samples[1].pred_painting.data, bicubic)
    assert (bicubic - up(pred[1], 'bilinear')).abs().max() > 1  # not bilinear in disguise
    assert bicubic.min() < 0 or bicubic.max() > 255  # overshoot ...
    restored = samples[1].pred_img.data
    assert restored.min() >= 0 and restored.max() <= 255  # ... clamped by the codec
    assert torch.allclose(restored, bicubic.clamp(0, 255))


FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def test_flip_test_paints_the_mirrored_query_in_the_same_pass():
    cfg = tiny_cfg(prompt_isolation=True)
    cfg['codecs']['pose'] = dict(type='KeypointCodec', sigma=1., id_radius=0, flip_indices=FLIP)
    model = _randomize(MODELS.build(dict(cfg, test_cfg=dict(flip_test=True)))).eval()
    g = torch.Generator().manual_seed(2)
    canvas = torch.randint(0, 255, (3, 3, 32, 16), dtype=torch.uint8, generator=g)
    canvas[:, :, :16] = canvas[:1, :, :16]  # one prompt
    samples = []
    for task in ('pose', 'semantic', 'pose'):
        # keypoints decode at the painted size here, so that the reference below needs no resize
        shape = (16, 16) if task == 'pose' else (20, 24)
        s = BaseDataElement(metainfo=dict(task=task, ori_shape=shape))
        s.target = canvas[0].clone()
        samples.append(s)
    data = model.data_preprocessor(dict(inputs=list(canvas), data_samples=samples), False)
    imgs, tgts = data['inputs']['imgs'], data['inputs']['tgts']
    with torch.no_grad(), mock.patch.object(model, 'predict_canvas',
                                            wraps=model.predict_canvas) as paint:
        out = model(**data, mode='predict')
        # one pass: the 3 queries, then the mirrors of the 2 keypoint queries
        assert paint.call_count == 1
        batch = paint.call_args.args[0]
        assert batch.shape[0] == 5
        assert torch.equal(batch[3:, :, :16], imgs[[0, 2], :, :16])  # the prompt is kept
        assert torch.equal(batch[3:, :, 16:], imgs[[0, 2], :, 16:].flip(-1))
        pred = model.denormalize(model.predict_canvas(imgs, tgts))
        mirrored = imgs.clone()
        mirrored[:, :, 16:] = imgs[:, :, 16:].flip(-1)
        pred_m = model.denormalize(model.predict_canvas(mirrored, tgts))
    codec = model.codecs['pose']
    for i in (0, 2):
        ref, ref_scores = codec.decode_flip(pred[i], pred_m[i])
        np.testing.assert_allclose(out[i].pred_instances.keypoints, ref, atol=1e-3)
        np.testing.assert_allclose(out[i].pred_instances.keypoint_scores, ref_scores, atol=1e-4)
        assert out[i].pred_painting.data.shape == (3, 16, 16)
        plain, _ = codec.decode(pred[i])
        assert not np.allclose(plain, ref)  # the mirror changed the answer
    assert out[1].pred_sem_seg.data.shape == (1, 20, 24)  # semantic: no flip test
    # the prompt cache gives the same flip-test answer
    model.test_cfg['use_cache'] = True
    with torch.no_grad():
        cached = model.predict(data['inputs'], copy.deepcopy(samples))
    np.testing.assert_allclose(cached[0].pred_instances.keypoints,
                               out[0].pred_instances.keypoints, atol=1e-2)


def _multi_prompt_batch(batch=2):
    """``batch`` queries under 2 prompts (semantic, instance): uint8 ``(B, 2, 3, 32, 16)``."""
    g = torch.Generator().manual_seed(4)
    canvas = torch.randint(0, 255, (batch, 2, 3, 32, 16), dtype=torch.uint8, generator=g)
    canvas[:, :, :, :16] = canvas[:1, :, :, :16]  # prompt k is shared by the batch
    canvas[:, 1, :, 16:] = canvas[:, 0, :, 16:]  # the same query under both prompts
    samples = []
    for i in range(batch):
        s = BaseDataElement(metainfo=dict(task='panoptic', ori_shape=(16, 16),
                                          prompt_tasks=('semantic', 'instance')))
        s.target = canvas[0].clone()
        samples.append(s)
    return list(canvas), samples


def test_multi_prompt_predict_decodes_each_prompt_and_merges():
    cfg = tiny_cfg(prompt_isolation=True)
    cfg['codecs']['instance'] = dict(type='InstanceCodec', min_area=1)
    cfg['mergers'] = dict(panoptic=dict(type='PanopticMerger', thing_labels=(0, 1, 2, 3, 4),
                                        num_classes=7, score_thr=0., stuff_area=1))
    model = _randomize(MODELS.build(cfg)).eval()
    inputs, samples = _multi_prompt_batch()
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
    imgs, tgts = data['inputs']['imgs'], data['inputs']['tgts']
    assert imgs.shape == (2, 2, 3, 32, 16) and tgts.shape == imgs.shape
    with torch.no_grad(), mock.patch.object(model, 'predict_canvas',
                                            wraps=model.predict_canvas) as paint:
        out = model(**data, mode='predict')
        assert paint.call_count == 1 and paint.call_args.args[0].shape[0] == 4  # B * P
        ref = [model.denormalize(model.predict_canvas(imgs[:, k], tgts[:, k])) for k in (0, 1)]
    sample = out[1]
    assert set(sample.pred_painting.keys()) == {'semantic', 'instance'}
    assert torch.allclose(sample.pred_painting.semantic, ref[0][1], atol=1e-3)
    assert torch.allclose(sample.pred_painting.instance, ref[1][1], atol=1e-3)
    sem = model.codecs['semantic'].decode(ref[0][1])
    assert torch.equal(sample.pred_sem_seg.data[0], sem)
    inst = sample.pred_instances
    assert len(inst) > 0  # the checks below must not hold vacuously
    # the instance painting decoded exactly as the codec decodes it on its own
    direct = model.codecs['instance'].decode(ref[1][1], sem_seg=sem)
    assert torch.equal(inst.masks, direct.masks) and torch.equal(inst.scores, direct.scores)
    # instance classes are voted from the semantic prompt's output (decoded first)
    from mmgen_vision.models.codecs import majority_labels
    assert torch.equal(inst.labels, majority_labels(inst.masks, sem))
    pan = sample.pred_panoptic_seg.sem_seg[0]
    assert pan.shape == (16, 16) and (pan % 1000 <= 7).all()  # 7: void
    # the prompt cache keeps both prompts: 2 encodings for 2 batches
    model.test_cfg['use_cache'] = True
    with torch.no_grad(), mock.patch.object(model.backbone, 'encode_prompt',
                                            wraps=model.backbone.encode_prompt) as encode:
        for _ in range(2):
            cached = model.predict(data['inputs'], copy.deepcopy(samples))
        assert encode.call_count == 2
    assert torch.allclose(cached[1].pred_painting.instance, sample.pred_painting.instance,
                          atol=1e-2)
    bad = copy.deepcopy(samples)
    for s in bad:
        s.set_metainfo(dict(prompt_tasks=('semantic', )))
    with pytest.raises(KeyError, match='prompt_tasks'):
        model.predict(data['inputs'], bad)


def test_training_step_reduces_loss():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg()).train()
    canvas = torch.randint(0, 255, (4, 3, 32, 16), dtype=torch.uint8)
    samples = []
    for i in range(4):
        s = BaseDataElement(metainfo=dict(task='semantic'))
        s.target = canvas[i].flip(0)  # a deterministic image-to-image mapping
        samples.append(s)
    opt = torch.optim.AdamW(model.parameters(), 3e-3)
    data = model.data_preprocessor(dict(inputs=list(canvas), data_samples=samples), True)
    losses = []
    for _ in range(30):
        loss = model(**data, mode='loss')['loss']
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.85 * np.mean(losses[:5])  # gradients reach every part


@pytest.fixture()
def tiny_config_file(tmp_path):
    path = tmp_path / 'painter_tiny.py'
    cfg = tiny_cfg(prompt_isolation=True)
    path.write_text(f"default_scope = 'mmgen_vision'\nmodel = {cfg!r}\n")
    model = MODELS.build(cfg)
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': _randomize(model).state_dict(), 'meta': {}}, ckpt)
    return str(path), str(ckpt), model.eval()


def _write_images(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for name, shape in (('ex', (24, 20)), ('ex_target', (24, 20)), ('q1', (40, 30)),
                        ('q2', (16, 16))):
        p = str(tmp_path / f'{name}.png')
        mmcv.imwrite(rng.integers(0, 255, shape + (3, ), dtype=np.uint8), p)
        paths.append(p)
    return paths


def test_inferencer_and_cache(tiny_config_file, tmp_path):
    from mmgen_vision.apis import PainterInferencer
    config, ckpt, model = tiny_config_file
    ex, ex_t, q1, q2 = _write_images(tmp_path)
    inf = PainterInferencer(config, ckpt)
    out = inf(ex, ex_t, [q1, q2], out_dir=str(tmp_path / 'vis'), task='semantic', batch_size=1)
    assert [p.shape for p in out['predictions']] == [(40, 30, 3), (16, 16, 3)]
    assert out['data_samples'][0].pred_sem_seg.data.shape == (1, 40, 30)
    assert osp.isfile(tmp_path / 'vis' / 'q1_pred.png')
    vis = mmcv.imread(str(tmp_path / 'vis' / 'q2_vis.png'))
    assert vis.shape[0] == 256 and vis.shape[1] > 4 * 200
    cached = PainterInferencer(config, ckpt, use_cache=True)(ex, ex_t, [q1, q2], batch_size=2)
    for a, b in zip(out['predictions'], cached['predictions']):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # 0-255 rounding only
    with pytest.raises(KeyError, match='no codec'):
        inf(ex, ex_t, [q1], task='pose')
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': {'backbone.pos_embed': torch.zeros(1, 5, 7)}}, bad)
    with pytest.raises(Exception, match='bad.pth'):
        PainterInferencer(config, str(bad))


def test_demo_cli(tiny_config_file, tmp_path):
    config, ckpt, _ = tiny_config_file
    ex, ex_t, q1, q2 = _write_images(tmp_path)
    out_dir = tmp_path / 'demo'
    proc = subprocess.run([sys.executable, 'demo/painter_demo.py', config, ckpt, '--prompt-img',
                           ex, '--prompt-target', ex_t, '--queries', q1, q2, '--out-dir',
                           str(out_dir), '--use-cache'], cwd=REPO_ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out_dir.iterdir()) == ['q1_pred.png', 'q1_vis.png',
                                                         'q2_pred.png', 'q2_vis.png']
    assert mmcv.imread(str(out_dir / 'q1_pred.png')).shape == (40, 30, 3)
    assert copy.deepcopy(proc.stdout).startswith('wrote 2 predictions')


def test_prompt_tuner_freezes_the_model_and_learns_the_prompt(tiny_config_file, tmp_path):
    _, ckpt, reference = tiny_config_file
    ex, ex_t, _, _ = _write_images(tmp_path)
    tuner = MODELS.build(dict(type='PainterPromptTuner', painter=tiny_cfg(prompt_isolation=True),
                              painter_checkpoint=ckpt,
                              prompt=dict(img_path=ex, target_path=ex_t)))
    tuner.init_weights()  # what the Runner does first: must not touch the loaded model
    for (name, p), q in zip(tuner.painter.named_parameters(), reference.parameters()):
        assert torch.equal(p, q), name
        assert not p.requires_grad
    trainable = [n for n, p in tuner.named_parameters() if p.requires_grad]
    assert trainable == ['prompt_img', 'prompt_tgt']
    canvas = torch.randint(0, 255, (2, 3, 32, 16), dtype=torch.uint8)
    samples = []
    for i in range(2):
        s = BaseDataElement(metainfo=dict(task='semantic'))
        s.target = canvas[i]
        samples.append(s)
    data = tuner.data_preprocessor(dict(inputs=list(canvas), data_samples=samples), True)
    tuner.train()
    assert not tuner.painter.training
    loss = tuner(**data, mode='loss')['loss']
    loss.backward()
    assert tuner.prompt_img.grad.abs().sum() > 0 and tuner.prompt_tgt.grad.abs().sum() > 0
    img, tgt = tuner.export_prompt()
    assert img.shape == (16, 16, 3) and img.dtype == np.uint8
    # predictions use the learned prompt whatever the canvas' top half holds
    tuner.eval()
    with torch.no_grad():
        a = tuner(**data, mode='tensor')
        data['inputs']['imgs'][:, :, :16] = 0.
        assert torch.allclose(a, tuner(**data, mode='tensor'))
    with pytest.raises(RuntimeError, match='Invalid mode "sample"'):
        tuner(**data, mode='sample')


def test_prompt_tuner_refuses_another_painters_checkpoint(tiny_config_file, tmp_path):
    """The frozen weights load strictly; the error names the file and the first bad key."""
    from mmgen_vision.utils.checkpoint import CheckpointError
    _, ckpt, _ = tiny_config_file
    ex, ex_t, _, _ = _write_images(tmp_path)
    wider = tiny_cfg(prompt_isolation=True, embed_dims=64)
    wider['head']['in_channels'] = 64
    with pytest.raises(CheckpointError, match=r'tiny\.pth.*size mismatch'):
        MODELS.build(dict(type='PainterPromptTuner', painter=wider, painter_checkpoint=ckpt,
                          prompt=dict(img_path=ex, target_path=ex_t)))
