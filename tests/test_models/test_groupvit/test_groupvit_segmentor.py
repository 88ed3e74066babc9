# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT's runner API (data samples) and the zero-shot GroupViTSegmentor."""
import pytest
import torch
from mmengine.structures import BaseDataElement
from mmseg.structures import SegDataSample

from mmgen_vision.models.groupvit import GroupViT
from mmgen_vision.models.groupvit.segmentor import VOC_RENAME, GroupViTSegmentor
from mmgen_vision.registry import MODELS

TINY = dict(
    image_encoder=dict(img_size=32, patch_size=4, embed_dims=32, depths=(1, 1, 1), num_heads=2,
                       num_group_tokens=(8, 4, 0), num_output_groups=(8, 4),
                       drop_path_rate=0.),
    text_encoder=dict(context_length=16, vocab_size=49408, width=32, layers=1),
    output_dim=16, proj_hidden_channels=32, multi_label=2)
CLASSES = ('background', 'circle', 'square', 'diningtable')


def _samples(n, length=16, k=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [BaseDataElement(text_ids=torch.randint(1, 400, (length, ), generator=g),
                            multi_label_ids=torch.randint(1, 400, (k, length), generator=g),
                            metainfo=dict(text='x')) for _ in range(n)]


def test_loss_from_data_samples_equals_raw_api():
    torch.manual_seed(0)
    model = GroupViT(**TINY).eval()
    images = torch.randn(3, 3, 32, 32)
    samples = _samples(3)
    text = torch.stack([torch.cat([s.text_ids[None], s.multi_label_ids]) for s in samples])
    ours = model(images, samples, mode='loss')
    raw = model(images, text, mode='loss')
    assert set(ours) == {'loss', 'multi_label_loss'}
    for key in raw:
        torch.testing.assert_close(ours[key], raw[key])
    out = model(images, samples, mode='predict')
    assert out[0].image_embedding.shape == (16, )
    torch.testing.assert_close(out[0].image_embedding.norm(), torch.tensor(1.))
    assert model(images, samples, mode='tensor').shape == (3, 16)


def test_data_samples_missing_multi_label_ids_are_named():
    model = GroupViT(**TINY)
    samples = [BaseDataElement(text_ids=torch.ones(16, dtype=torch.long))]
    with pytest.raises(KeyError, match='multi_label_ids'):
        model(torch.randn(1, 3, 32, 32), samples, mode='loss')


def test_segmentor_loads_groupvit_state_dict_and_predicts():
    torch.manual_seed(0)
    trained = GroupViT(**TINY).eval()
    seg = MODELS.build(dict(type='GroupViTSegmentor', class_names=CLASSES, rename=VOC_RENAME,
                            test_cfg=dict(mode='slide', crop_size=32, stride=16,
                                          short_side=40), **TINY))
    seg.load_state_dict(trained.state_dict(), strict=True)
    assert set(seg.state_dict()) == set(trained.state_dict())
    seg.eval()
    assert seg.prompt_class_names == ['circle', 'square', 'table']
    image = torch.randn(1, 3, 50, 70)
    sample = SegDataSample(metainfo=dict(ori_shape=(25, 35), img_shape=(50, 70),
                                         padding_size=[0, 0, 0, 0]))
    out = seg(image, [sample], mode='predict')
    assert isinstance(out[0], SegDataSample)
    assert out[0].pred_sem_seg.data.shape == (1, 25, 35)
    assert out[0].seg_logits.data.shape == (4, 25, 35)
    assert int(out[0].pred_sem_seg.data.max()) < 4
    # the class embeddings are computed once
    emb = seg.text_embedding()
    assert seg.text_embedding() is emb
    torch.testing.assert_close(emb, trained.build_text_embedding(seg.prompt_ids()))


def test_whole_mode_equals_model_seg_logits():
    torch.manual_seed(0)
    seg = GroupViTSegmentor(class_names=CLASSES, bg_thresh=0.5, topk=2, **TINY).eval()
    image = torch.randn(2, 3, 32, 32)
    expected = seg.seg_logits(image, seg.text_embedding(), bg_thresh=0.5, topk=2)
    torch.testing.assert_close(seg(image, None, mode='tensor'), expected)
    # background: exactly the pixels whose best class score is below min(0.5, best group score)
    bg = expected[:, 0]
    assert set(bg.unique().tolist()) <= {0., 1.}


def test_slide_mode_averages_the_overlapping_windows():
    """mmseg's ``EncoderDecoder.slide_inference``: every pixel is the mean of the scores of
    the windows covering it (the last window of a row / column is moved back inside)."""
    torch.manual_seed(0)
    seg = GroupViTSegmentor(class_names=CLASSES, bg_thresh=0.5, topk=2,
                            test_cfg=dict(mode='slide', crop_size=32, stride=(16, 24)),
                            **TINY).eval()
    assert seg.test_cfg.crop_size == (32, 32) and seg.out_channels == len(CLASSES)
    image = torch.randn(1, 3, 40, 60)
    total, count = torch.zeros(1, len(CLASSES), 40, 60), torch.zeros(1, 1, 40, 60)
    for y1 in (0, 8):  # rows 0-32 and 8-40
        for x1 in (0, 24, 28):  # columns 0-32, 24-56, 28-60
            window = image[:, :, y1:y1 + 32, x1:x1 + 32]
            total[:, :, y1:y1 + 32, x1:x1 + 32] += seg.window_logits(window)
            count[:, :, y1:y1 + 32, x1:x1 + 32] += 1
    torch.testing.assert_close(seg(image, None, mode='tensor'), total / count, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        seg(image, None, mode='features')


def test_segmentor_rejects_bad_templates_and_modes():
    with pytest.raises(ValueError, match='template'):
        GroupViTSegmentor(class_names=CLASSES, templates=('a photo',), **TINY)
    with pytest.raises(ValueError, match='crop_size'):
        GroupViTSegmentor(class_names=CLASSES, test_cfg=dict(mode='slide', stride=8), **TINY)


def test_compiled_slide_inference_compiles_the_window_once():
    """``compile=True`` compiles :meth:`window_logits` (``compile_instead``), not the test step:
    images of other sizes (the paper's short-side resize and sliding windows) reuse the one
    window graph. Compiling the whole step recompiled at every batch of the paper's zero-shot
    config (docs/benchmark.md). Dynamo's backend ``eager``: the guards, not the kernels."""
    from mmgen_vision.utils.compile import CompileCounter, compile_model_steps
    torch.manual_seed(0)
    seg = GroupViTSegmentor(class_names=CLASSES, bg_thresh=0.5, topk=2,
                            test_cfg=dict(mode='slide', crop_size=32, stride=24, short_side=32),
                            **TINY).eval()
    eager = [seg(torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(h * w)),
                 None, mode='tensor') for h, w in ((32, 48), (40, 32), (36, 60))]
    torch._dynamo.reset()
    compile_model_steps(seg, ('val_step', 'test_step'), dict(backend='eager'))
    assert 'window_logits' in seg.__dict__ and 'test_step' not in seg.__dict__
    counter = CompileCounter()
    for i, (h, w) in enumerate(((32, 48), (40, 32), (36, 60))):
        image = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(h * w))
        torch.testing.assert_close(seg(image, None, mode='tensor'), eager[i])
        graphs = counter.snapshot()['graphs']
        assert (graphs > 0) if i == 0 else (graphs == 0), (i, graphs)
