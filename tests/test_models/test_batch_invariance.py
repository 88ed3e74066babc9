# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A prediction must not depend on what else is in the batch (issue 13, part 4).

For every method's inference path an image is predicted alone and inside a batch of images of
other sizes (the batch also holds two images of one size, so that a group of several images
is exercised): label maps (and boxes' labels) must be identical, scores, logits, depths,
boxes and keypoints equal within ``rtol = atol = 1e-5``. All models are tiny and randomly
initialised from the toy configs (or the shapes of the existing unit tests), their weights
spread (:func:`spread`) where the default initialisation predicts one label everywhere, so
that the label maps compared are not constant; the inputs are arrays of flat coloured regions
(sky, ground, two blocks), so no data set is needed.

Before the fix, padding to the largest image of the batch reached X-Decoder's, GLID's and
GroupViT's predictions, mmseg's data preprocessor refused images of different sizes
(``SegInferencer`` with ``batch_size > 1`` on the FCN, GLID and GroupViT configs), and
Peekaboo's random initialisation and draws depended on an image's position in the batch.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample
from mmseg.structures import SegDataSample

from mmgen_vision.apis import PainterInferencer, SegInferencer, XDecoderInferencer
from mmgen_vision.models.common import predict_by_shape, shape_groups
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import load_config, register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Tolerance of every float output (scores, logits, depths, boxes, keypoints).
TOL = dict(rtol=1e-5, atol=1e-5)
#: (H, W) of the test images: the first is the odd one out, the last two share a size.
SIZES = ((80, 96), (60, 112), (60, 112))
COCO_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def config(path: str) -> str:
    return osp.join(REPO_ROOT, 'configs', path)


@pytest.fixture(scope='module')
def images():
    """Three noisy BGR scenes (sky, ground, a red and a blue block); the batch order puts the
    odd-sized one in the middle."""
    rng = np.random.default_rng(0)
    imgs = []
    for h, w in SIZES:
        img = np.empty((h, w, 3), np.uint8)
        img[:h // 3] = (235, 206, 135)
        img[h // 3:] = (40, 140, 60)
        img[h // 4:3 * h // 4, w // 6:w // 2] = (30, 30, 220)
        img[h // 2:, 2 * w // 3:] = (220, 60, 30)
        noise = rng.integers(-20, 21, img.shape)
        imgs.append(np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8))
    return [imgs[1], imgs[0], imgs[2]]


def spread(model, std: float):
    """Add ``N(0, std^2)`` noise to every parameter (seeded), in place."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g).to(p) * std)
    return model


def get(sample, path):
    """The field at a dotted path of a data sample, as a tensor."""
    for key in path.split('.'):
        sample = getattr(sample, key)
    return torch.as_tensor(np.asarray(sample) if not torch.is_tensor(sample) else sample)


def assert_same(alone, batched, exact=(), close=()):
    """Fields (dotted paths into the data samples) ``exact``: equal; ``close``: within TOL."""
    for path in exact:
        a, b = get(alone, path), get(batched, path)
        assert a.shape == b.shape and torch.equal(a, b), f'{path} differs in the batch'
    for path in close:
        torch.testing.assert_close(get(batched, path), get(alone, path), **TOL,
                                   msg=lambda m, path=path: f'{path}: {m}')


def assert_varied(preds, path):
    """The comparison is not vacuous: some image gets more than one label."""
    assert any(len(torch.unique(get(p, path))) > 1 for p in preds), f'{path} is constant'


def check_inferencer(inferencer, images, exact, close, **kwargs):
    """Each image alone (``batch_size=1``) vs. all images in one batch."""
    batched = inferencer(images, batch_size=len(images), return_datasamples=True,
                         **kwargs)['predictions']
    assert len(batched) == len(images)
    assert_varied(batched, exact[0])
    for image, pred in zip(images, batched):
        alone = inferencer([image], batch_size=1, return_datasamples=True,
                           **kwargs)['predictions'][0]
        assert tuple(alone.ori_shape) == tuple(pred.ori_shape)
        assert_same(alone, pred, exact, close)


def check_test_step(model, inputs, make_samples, exact, close):
    """``model.test_step`` on each input alone vs. on all of them in one batch."""
    with torch.no_grad():
        batched = model.test_step(dict(inputs=list(inputs), data_samples=make_samples()))
        if exact:
            assert_varied(batched, exact[0])
        for i, inp in enumerate(inputs):
            alone = model.test_step(dict(inputs=[inp], data_samples=[make_samples()[i]]))[0]
            assert_same(alone, batched[i], exact, close)


def build_model(path):
    """The (randomly initialised) model of a config, in eval mode."""
    register_all_modules(init_default_scope=False)
    init_default_scope('mmgen_vision')
    cfg = load_config(config(path))
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


# the shared mechanism -----------------------------------------------------------------------
def test_predict_by_shape_groups_and_restores_order():
    inputs = [torch.zeros(3, 4, 5), torch.zeros(3, 2, 2), torch.ones(3, 4, 5),
              torch.zeros(3, 2, 2)]
    assert shape_groups(inputs) == [[0, 2], [1, 3]]
    calls = []

    def step(data):
        calls.append([s['id'] for s in data['data_samples']])
        torch.stack(data['inputs'])  # a stacking preprocessor: one shape per call
        return [dict(s, shape=tuple(x.shape)) for x, s in zip(data['inputs'],
                                                               data['data_samples'])]

    samples = [dict(id=i) for i in range(4)]
    out = predict_by_shape(step, dict(inputs=inputs, data_samples=samples))
    assert calls == [[0, 2], [1, 3]]
    assert [o['id'] for o in out] == [0, 1, 2, 3]
    assert [o['shape'][1:] for o in out] == [(4, 5), (2, 2), (4, 5), (2, 2)]
    # one shape, or a stacked tensor: a single call with the batch as it is
    calls.clear()
    predict_by_shape(step, dict(inputs=inputs[:1] + inputs[2:3], data_samples=samples[:2]))
    assert calls == [[0, 1]]
    stacked = dict(inputs=torch.zeros(2, 3, 4, 5), data_samples=samples[:2])
    assert predict_by_shape(lambda d: d, stacked) is stacked


# FCN: the main job config (stock mmseg EncoderDecoder) ---------------------------------------
def test_fcn_main_config(images):
    torch.manual_seed(0)
    inferencer = SegInferencer(
        config('shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py'), 'none',
        device='cpu')
    spread(inferencer.model, 0.05)
    check_inferencer(inferencer, images, exact=['pred_sem_seg.data'],
                     close=['seg_logits.data'])


# X-Decoder: semantic, panoptic and referring segmentation -----------------------------------
@pytest.fixture(scope='module')
def xdecoder():
    torch.manual_seed(0)
    inferencer = XDecoderInferencer(config('xdecoder/xdecoder_toy_shapesworld-joint.py'),
                                    'none', device='cpu')
    spread(inferencer.model, 0.05)
    # keep the (random) queries' segments in the panoptic merge
    inferencer.model.test_cfg.update(object_mask_thr=0., overlap_thr=0.)
    return inferencer


XDECODER_CASES = [
    ('semantic', dict(classes=['red block', 'sky', 'ground', 'blue block', 'tree']),
     ['pred_sem_seg.data'],
     ['seg_logits.data']),
    ('panoptic', dict(), ['pred_panoptic_seg.sem_seg', 'pred_instances.masks',
                          'pred_instances.labels'], ['pred_instances.scores']),
    ('referring', dict(text='the red block.the sky'), ['pred_instances.masks',
                                                      'pred_sem_seg.data'],
     ['pred_instances.scores']),
]


@pytest.mark.parametrize('task,kwargs,exact,close', XDECODER_CASES,
                         ids=[c[0] for c in XDECODER_CASES])
def test_xdecoder(xdecoder, images, task, kwargs, exact, close):
    check_inferencer(xdecoder, images, exact, close, task=task, **kwargs)


# GLID: semantic segmentation, depth, detection, pose ----------------------------------------
def test_glid_semseg(images):
    torch.manual_seed(0)
    inferencer = SegInferencer(config('glid/glid_toy_shapesworld-ade-semseg.py'), 'none',
                               device='cpu')
    spread(inferencer.model, 1.0)
    check_inferencer(inferencer, images, exact=['pred_sem_seg.data'],
                     close=['seg_logits.data'])


def _chw(images):
    return [torch.from_numpy(img.transpose(2, 0, 1).copy()) for img in images]


def test_glid_depth(images):
    model = build_model('glid/glid_toy_shapesworld-nyu-depth.py')
    inputs = _chw(images)

    def samples():
        return [SegDataSample(metainfo=dict(img_shape=x.shape[1:], ori_shape=x.shape[1:]))
                for x in inputs]

    check_test_step(model, inputs, samples, exact=(), close=['pred_depth_map.data'])


def test_glid_panoptic(images):
    model = spread(build_model('glid/glid_toy_shapesworld-coco-panoptic.py'), 0.3)
    inputs = _chw(images)

    def samples():
        return [DetDataSample(metainfo=dict(img_shape=x.shape[1:], ori_shape=x.shape[1:],
                                            scale_factor=(1., 1.))) for x in inputs]

    check_test_step(model, inputs, samples, exact=['pred_panoptic_seg.sem_seg'], close=())


def test_glid_det(images):
    model = spread(build_model('glid/glid_toy_shapesworld-coco-det.py'), 0.3)
    inputs = _chw(images)

    def samples():
        return [DetDataSample(metainfo=dict(img_shape=x.shape[1:], ori_shape=x.shape[1:],
                                            scale_factor=(1., 1.))) for x in inputs]

    check_test_step(model, inputs, samples, exact=['pred_instances.labels'],
                    close=['pred_instances.scores', 'pred_instances.bboxes'])


def test_glid_pose(images):
    """Top-down crops of two sizes (60 x 48 twice, 64 x 64), flip test on (as configured)."""
    model = build_model('glid/glid_toy_shapesworld-coco-pose.py')
    assert model.test_cfg['flip_test']
    crops = [images[0][:64, :48], images[1][:64, :64], images[2][-64:, -48:]]
    inputs = _chw(crops)

    def samples():
        out = []
        for x in inputs:
            h, w = x.shape[1:]
            sample = PoseDataSample(metainfo=dict(
                input_size=(w, h), input_center=np.array([w / 2, h / 2], dtype=np.float32),
                input_scale=np.array([w, h], dtype=np.float32), flip_indices=COCO_FLIP))
            sample.gt_instances = InstanceData(bboxes=np.array([[0., 0., w, h]]),
                                               bbox_scores=np.ones(1))
            out.append(sample)
        return out

    check_test_step(model, inputs, samples, exact=(),
                    close=['pred_instances.keypoints', 'pred_instances.keypoint_scores'])


# GroupViT: zero-shot segmentation ------------------------------------------------------------
def test_groupvit(images):
    torch.manual_seed(0)
    inferencer = SegInferencer(config('groupvit/groupvit_toy_shapesworld-voc-zeroshot.py'),
                               'none', device='cpu')
    check_inferencer(inferencer, images, exact=['pred_sem_seg.data'],
                     close=['seg_logits.data'])


# Peekaboo: fixed seed -------------------------------------------------------------------------
@pytest.mark.parametrize('cfg', [
    dict(type='RasterAlpha', init_std=1.0),
    dict(type='FourierAlpha', num_frequencies=8, hidden_channels=16, num_layers=2,
         bilateral=dict(num_iters=2)),
])
def test_alpha_copied_to_every_image(cfg):
    """A 3-image alpha filled from a seeded 1-image alpha: every image's masks are the
    1-image masks (guided by the same image), so the start does not depend on the batch."""
    torch.manual_seed(0)
    single = MODELS.build(dict(cfg, num_masks=2, size=(12, 10)))
    batched = MODELS.build(dict(cfg, num_masks=2, size=(12, 10), num_images=3))
    batched.copy_to_every_image(single)
    guide = torch.rand(1, 3, 12, 10, generator=torch.Generator().manual_seed(1))
    single.set_guide(guide)
    batched.set_guide(guide.expand(3, -1, -1, -1))
    with torch.no_grad():
        expected, out = single(), batched()
    for i in range(3):
        torch.testing.assert_close(out[i], expected[0], **TOL)
    with pytest.raises(ValueError, match='one image'):
        batched.copy_to_every_image(batched)


@pytest.mark.parametrize('num_iters,guidance_scale', [(3, 1.0), (1, None)],
                         ids=['3-steps-unguided', '1-step-guided'])
def test_peekaboo_fixed_seed(images, tmp_path_factory, num_iters, guidance_scale):
    """The toy config centre-crops every image to 64 x 64, so the three images are optimised
    together: each must still get the masks it gets alone (its own seeded draws, its own
    statistics).

    Batched, the guide's and the alpha's kernels round differently than alone (1e-7), and two
    things amplify that: classifier-free guidance (the toy's scale 7.5: dream gradients 4e-5
    apart at step 0 on a 1-thread AVX2 CPU) and Adam, whose first steps are about lr * sign(g)
    also where g is rounding noise (e.g. a convolution bias in front of BatchNorm, whose true
    gradient is 0). Three guided Adam steps ended 8e-5 apart there (within 1e-5 at 2 threads
    and on AVX-512 CPUs). So three steps are compared without guidance amplification (scale
    1: 5e-7 apart at 2 threads), and the guided toy config over one step; a leak between the
    images (shared draws or statistics) moves the masks by orders of magnitude more."""
    from mmgen_vision.testing import build_tiny_stable_diffusion
    tiny_sd = build_tiny_stable_diffusion(str(tmp_path_factory.mktemp('tiny_sd')))
    options = {
        'model.guide.pretrained_path': tiny_sd, 'model.num_iters': num_iters,
        # masks that move within the steps
        'model.optimizer.type': 'Adam', 'model.optimizer.lr': 1e-2}
    if guidance_scale is not None:
        options['model.guide.guidance_scale'] = guidance_scale
    cfg = load_config(config('peekaboo/peekaboo_tiny-sd_shapesworld-voc.py'), options)
    inferencer = SegInferencer(cfg, 'none', device='cpu')
    check_inferencer(inferencer, images, exact=['pred_sem_seg.data'],
                     close=['seg_logits.data'])


# Painter: in-context segmentation --------------------------------------------------------------
def test_painter(images):
    """Every query is resized to the model's canvas, so no padding is involved; the queries of
    a batch must still not influence each other."""
    from test_painter_model import _randomize, tiny_cfg
    model = _randomize(MODELS.build(tiny_cfg())).eval()
    inferencer = PainterInferencer(model)
    prompt, target = images[0][:40, :40], images[0][40:, 60:100]
    rgb = [img[..., ::-1].copy() for img in images]
    batched = inferencer(prompt, target, rgb, task='semantic', batch_size=len(rgb))
    assert_varied(batched['data_samples'], 'pred_sem_seg.data')
    for i, img in enumerate(rgb):
        alone = inferencer(prompt, target, [img], task='semantic', batch_size=1)
        np.testing.assert_array_equal(alone['predictions'][0], batched['predictions'][i])
        assert_same(alone['data_samples'][0], batched['data_samples'][i],
                    exact=['pred_sem_seg.data'])
