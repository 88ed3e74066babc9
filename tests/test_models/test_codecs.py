# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Task <-> image codecs: encode the ground truth, decode the image, compare (round trips)."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData

from mmgen_vision.registry import TASK_UTILS


def _as_pred(target: np.ndarray) -> torch.Tensor:
    """An encoded ``(H, W, 3)`` uint8 image as a predicted ``(3, H, W)`` float image."""
    return torch.from_numpy(target).permute(2, 0, 1).float()


def test_semantic_round_trip_exact_any_class_count():
    rng = np.random.default_rng(0)
    for cfg, k in ((dict(type='ADE20KSemanticCodec'), 150),
                   (dict(type='COCOPanopticSemanticCodec'), 133),
                   (dict(type='SemanticCodec', num_classes=7), 7),
                   (dict(type='SemanticCodec', num_classes=300, ignore_index=-1), 300)):
        codec = TASK_UTILS.build(cfg)
        seg = rng.integers(0, k, size=(40, 50))
        seg[:3] = codec.ignore_index  # unlabelled rows: black, zero weight
        target, valid = codec.encode(dict(gt_seg_map=seg))
        assert target.dtype == np.uint8 and target.shape == (40, 50, 3)
        assert (target[:3] == 0).all() and (valid[:3] == 0).all() and (valid[3:] == 1).all()
        decoded = codec.decode(_as_pred(target)).numpy()
        np.testing.assert_array_equal(decoded[3:], seg[3:])
        # robust to prediction noise below half the margin
        half = codec.margin / 2.5
        noisy = _as_pred(target) + torch.empty(3, 40, 50).uniform_(-half, half)
        np.testing.assert_array_equal(codec.decode(noisy).numpy()[3:], seg[3:])
    ade = TASK_UTILS.build(dict(type='ADE20KSemanticCodec'))
    assert ade.base == 6 and ade.margin == 42
    # 37 = 1*36 + 0*6 + 1, 149 = 4*36 + 0*6 + 5
    np.testing.assert_array_equal(ade.colours(np.array([0, 37, 149])),
                                  [[255, 255, 255], [213, 255, 213], [87, 255, 45]])
    coco = TASK_UTILS.build(dict(type='COCOPanopticSemanticCodec'))
    assert coco.base == 7 and coco.margin == 36


def test_semantic_bad_annotation_is_named():
    codec = TASK_UTILS.build(dict(type='SemanticCodec', num_classes=7))
    with pytest.raises(KeyError, match='gt_seg_map.*img.png'):
        codec.encode(dict(img_path='img.png'))


def test_depth_round_trip_within_quantisation():
    codec = TASK_UTILS.build(dict(type='DepthCodec', max_depth=10.))
    depth = np.random.default_rng(1).uniform(0.1, 10., size=(30, 40)).astype(np.float32)
    depth[0, 0] = 0.  # no measurement
    target, valid = codec.encode(dict(gt_depth_map=depth))
    assert (target[..., 0] == target[..., 1]).all() and (target[..., 1] == target[..., 2]).all()
    assert valid[0, 0].sum() == 0 and valid[1:].min() == 1
    decoded = codec.decode(_as_pred(target)).numpy()
    err = np.abs(decoded - depth)[1:]
    assert err.max() <= codec.step / 2 + 1e-5
    sample = BaseDataElement()
    codec.decode_to_sample(_as_pred(target), sample)
    assert sample.pred_depth_map.data.shape == (1, 30, 40)
    assert sample.pred_depth_map.data.min() > 0  # log metrics stay finite


def _random_instances(rng, n, h, w):
    masks = np.zeros((n, h, w), dtype=bool)
    ys, xs = np.mgrid[0:h, 0:w]
    centres = []
    while len(centres) < n:  # well-separated centres (different position cells)
        c = (rng.uniform(8, h - 8), rng.uniform(8, w - 8))
        if all(abs(c[0] - d[0]) + abs(c[1] - d[1]) > 20 for d in centres):
            centres.append(c)
    for i, (cy, cx) in enumerate(centres):
        r = rng.uniform(4, 9)
        masks[i] = (ys - cy)**2 + (xs - cx)**2 <= r * r
    return masks


def test_instance_round_trip_iou():
    rng = np.random.default_rng(2)
    codec = TASK_UTILS.build(dict(type='InstanceCodec'))
    masks = _random_instances(rng, 5, 96, 128)
    target, valid = codec.encode(dict(gt_masks=masks, img_shape=(96, 128)))
    assert valid.min() == 1 and (target[~masks.any(0)] == 0).all()
    colours = codec.instance_colours(masks)
    assert len({tuple(c) for c in colours}) == 5
    sem = torch.zeros(96, 128, dtype=torch.long)
    for i, m in enumerate(masks):
        sem[torch.from_numpy(m)] = i + 1
    noisy = _as_pred(target) + torch.empty(3, 96, 128).uniform_(-4, 4)
    result = codec.decode(noisy.clamp(0, 255), sem_seg=sem)
    assert len(result) == 5
    for i, gt in enumerate(torch.from_numpy(masks)):
        inter = (result.masks & gt).sum((1, 2)).float()
        union = (result.masks | gt).sum((1, 2)).float()
        best = int((inter / union).argmax())
        assert (inter / union)[best] > 0.95
        assert int(result.labels[best]) == i + 1  # majority vote of the semantic map
    assert (result.scores > 0.5).all()
    assert result.bboxes.shape == (5, 4)


def test_instance_nearest_colour_equals_brute_force():
    """The per-channel nearest level is the nearest of all 6400 palette colours."""
    codec = TASK_UTILS.build(dict(type='InstanceCodec'))
    pred = torch.rand(3, 30, 40, generator=torch.Generator().manual_seed(5)) * 255
    palette = torch.as_tensor(codec.palette, dtype=torch.float32)
    dist, index = torch.cdist(pred.flatten(1).t(), palette).min(1)
    fast_dist, fast_index = codec.nearest_colour(pred)
    assert torch.equal(fast_index, index)
    assert torch.allclose(fast_dist, dist, atol=1e-2)


def test_panoptic_merge_thresholds():
    h, w = 40, 40
    inst = InstanceData()
    m = torch.zeros(3, h, w, dtype=torch.bool)
    m[0, :10, :10] = True
    m[1, 5:15, 5:15] = True  # overlaps 0: 25 of 100 pixels taken -> kept (75% free)
    m[2, :10, :9] = True  # almost all of it taken by 0 -> dropped
    inst.masks, inst.scores = m, torch.tensor([0.9, 0.8, 0.7])
    inst.labels = torch.tensor([0, 1, 0])
    sem = torch.full((h, w), 2, dtype=torch.long)  # stuff class 2 everywhere else
    merger = TASK_UTILS.build(dict(type='PanopticMerger', thing_labels=(0, 1), num_classes=3,
                                   stuff_area=100))
    sample = BaseDataElement(pred_instances=inst)
    sample.pred_sem_seg = BaseDataElement(data=sem[None])
    merger(sample)
    pan = sample.pred_panoptic_seg.sem_seg[0]
    assert int(pan[0, 0]) == 0 + 1000 and int(pan[14, 14]) == 1 + 2000
    assert set(torch.unique(pan).tolist()) == {1000, 2001, 2}
    inst.scores = torch.tensor([0.5, 0.8, 0.7])  # below the 0.55 score threshold
    merger(sample)
    pan = sample.pred_panoptic_seg.sem_seg[0]
    # instance 1 is pasted first (id 1); instance 2 keeps 70 of its 90 pixels (id 2)
    assert int(pan[14, 14]) == 1 + 1000 and int(pan[0, 0]) == 0 + 2000


def test_keypoint_round_trip_within_one_pixel_and_flip():
    rng = np.random.default_rng(3)
    flip = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    codec = TASK_UTILS.build(dict(type='KeypointCodec', flip_indices=flip))
    h, w = 256, 192
    # joints on a jittered 5x4 lattice (identity squares must not overlap)
    cells = [(r, c) for r in range(5) for c in range(4)][:17]
    kpts = np.array([[20 + 45 * c + rng.uniform(-6, 6), 20 + 52 * r + rng.uniform(-6, 6)]
                     for r, c in cells], np.float32)
    vis = np.ones(17, np.float32)
    vis[5] = 0  # an invisible joint is not drawn
    target, valid = codec.encode(dict(keypoints=kpts[None], keypoints_visible=vis[None],
                                      img_shape=(h, w)))
    assert valid.max() == 10. and valid.min() == 1.
    pred, scores = codec.decode(_as_pred(target))
    err = np.linalg.norm(pred[0] - kpts, axis=1)
    assert err[vis > 0].max() < 1.0, err
    assert scores[0, 5] == 0 and scores[0, vis > 0].min() > 0.9
    # flip test: the mirrored crop's prediction flipped back agrees
    mirrored = kpts.copy()
    mirrored[:, 0] = w - 1 - mirrored[:, 0]
    t_flip, _ = codec.encode_keypoints(mirrored[flip], vis[flip], (h, w))
    both, _ = codec.decode_flip(_as_pred(target), _as_pred(t_flip))
    assert np.linalg.norm(both[0] - kpts, axis=1)[vis > 0].max() < 1.0
    # a mirrored painting whose left / right identities are not swapped fails (the averaged
    # heatmaps of a paired joint then peak on its partner as well)
    unswapped, _ = codec.encode_keypoints(mirrored, vis, (h, w))
    bad, _ = codec.decode_flip(_as_pred(target), _as_pred(unswapped))
    assert np.linalg.norm(bad[0] - kpts, axis=1)[vis > 0].max() > 20


def test_keypoint_flip_to_sample_maps_to_image_coordinates():
    """``decode_flip_to_sample`` = ``decode_flip`` + the crop -> image mapping of
    ``decode_to_sample``; codecs without a flip test refuse it."""
    flip = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    codec = TASK_UTILS.build(dict(type='KeypointCodec', sigma=2., id_radius=1,
                                  flip_indices=flip))
    h, w = 64, 48
    cells = [(r, c) for r in range(6) for c in range(3)][:17]
    kpts = np.array([[6 + 16 * c, 5 + 10 * r] for r, c in cells], np.float32)
    vis = np.ones(17, np.float32)
    target, _ = codec.encode_keypoints(kpts, vis, (h, w))
    mirrored = kpts[flip].copy()
    mirrored[:, 0] = w - 1 - mirrored[:, 0]
    t_flip, _ = codec.encode_keypoints(mirrored, vis, (h, w))
    meta = dict(input_center=np.array([[100., 50.]]), input_scale=np.array([[96., 128.]]))
    plain, flipped = BaseDataElement(metainfo=meta), BaseDataElement(metainfo=meta)
    codec.decode_to_sample(_as_pred(target), plain)
    codec.decode_flip_to_sample(_as_pred(target), _as_pred(t_flip), flipped)
    # crop pixel (x, y) -> image (x * 2 + 100 - 48, y * 2 + 50 - 64)
    expected = kpts * 2 + np.array([52., -14.])
    for sample in (plain, flipped):
        err = np.linalg.norm(sample.pred_instances.keypoints[0] - expected, axis=1)
        assert err.max() < 2.0, err  # one crop pixel = 2 image pixels
    assert codec.supports_flip and codec.decode_priority == 0
    with pytest.raises(ValueError, match='flip_indices'):
        TASK_UTILS.build(dict(type='KeypointCodec')).decode_flip_to_sample(
            _as_pred(target), _as_pred(t_flip), BaseDataElement())
    sem = TASK_UTILS.build(dict(type='SemanticCodec', num_classes=7))
    assert not sem.supports_flip
    with pytest.raises(ValueError, match='no flip test'):
        sem.decode_flip_to_sample(_as_pred(target), _as_pred(target), BaseDataElement())
    # instances read the semantic prompt's output: decoded after it
    assert TASK_UTILS.build(dict(type='InstanceCodec')).decode_priority > sem.decode_priority


@pytest.mark.parametrize('codec_cfg', [dict(type='DepthCodec', max_depth=10.),
                                       dict(type='RestorationCodec')])
def test_flip_test_of_continuous_codecs_averages_the_mirrored_back_prediction(codec_cfg):
    """Depth / restoration: the mirrored prediction is mirrored back and averaged; a prediction
    that is NOT mirrored back (the wrong way round) would not give the plain decoding."""
    codec = TASK_UTILS.build(codec_cfg)
    assert codec.supports_flip
    rng = np.random.default_rng(5)
    pred = torch.from_numpy(rng.uniform(0, 255, (3, 6, 8))).float()
    if codec_cfg['type'] == 'DepthCodec':
        pred = pred.mean(0, keepdim=True).expand(3, -1, -1).clone()
    field = 'pred_depth_map' if codec_cfg['type'] == 'DepthCodec' else 'pred_img'
    plain, flipped, shifted = BaseDataElement(), BaseDataElement(), BaseDataElement()
    codec.decode_to_sample(pred, plain)
    # a consistent model: its answer for the mirrored query is the mirrored answer
    codec.decode_flip_to_sample(pred, pred.flip(-1), flipped)
    torch.testing.assert_close(flipped.get(field).data, plain.get(field).data)
    # an inconsistent one: the mean of the two answers (brighter by 20 on the mirrored side)
    codec.decode_flip_to_sample(pred, pred.flip(-1) + 20., shifted)
    mean = BaseDataElement()
    codec.decode_to_sample(pred + 10., mean)
    torch.testing.assert_close(shifted.get(field).data, mean.get(field).data)
    assert not torch.allclose(shifted.get(field).data, plain.get(field).data)


def test_restoration_identity():
    codec = TASK_UTILS.build(dict(type='RestorationCodec'))
    bgr = np.random.default_rng(4).integers(0, 256, (8, 9, 3), dtype=np.uint8)
    target, valid = codec.encode(dict(gt_img=bgr))
    np.testing.assert_array_equal(target, bgr[..., ::-1])
    sample = BaseDataElement()
    codec.decode_to_sample(_as_pred(target), sample)
    np.testing.assert_array_equal(sample.pred_img.data.permute(1, 2, 0).numpy(), bgr[..., ::-1])
    with pytest.raises(KeyError, match='gt_img'):
        codec.encode(dict(img=bgr))
