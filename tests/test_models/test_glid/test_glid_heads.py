# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID task answers: each head's single linear layer and the decoding of its output
(segmentation masks, depth bins, DETR boxes, keypoint heatmaps)."""
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from mmpose.registry import KEYPOINT_CODECS

from mmgen_vision.models.glid import (GLIDDepthHead, GLIDDetHead, GLIDPoseHead, GLIDSegHead,
                                      bin_centers, chamfer_bin_loss)
from mmgen_vision.models.glid.segmentor import crop_and_resize
from test_glid_model import SEG_HEAD


def test_seg_head_masks_are_dot_products_with_f_b():
    torch.manual_seed(0)
    head = GLIDSegHead(embed_dims=8, **{k: v for k, v in SEG_HEAD.items() if k != 'type'})
    assert head.fc.out_features == 8 + 3 + 1
    hs = torch.randn(2, 1, 4, 8)
    f_b = torch.randn(1, 8, 5, 6)
    cls_logits, mask_logits = head(hs, f_b)
    out = head.fc(hs)
    assert torch.allclose(cls_logits, out[..., 8:])
    expected = (out[1, 0, 2, :8, None, None] * f_b[0]).sum(0)
    assert torch.allclose(mask_logits[1, 0, 2], expected, atol=1e-5)


def test_semantic_inference_combines_classes_and_masks():
    # query 0 says class 2 on the left half, query 1 class 0 on the right, query 2 no-object
    cls_logits = torch.tensor([[[-9., -9., 9., -9.], [9., -9., -9., -9.], [-9., -9., -9., 9.]]])
    masks = torch.full((1, 3, 4, 4), -9.)
    masks[0, 0, :, :2] = 9.
    masks[0, 1, :, 2:] = 9.
    masks[0, 2] = 9.
    logits = GLIDSegHead.semantic_logits(cls_logits, masks)
    assert logits.shape == (1, 3, 4, 4)
    labels = logits.argmax(1)[0]
    assert (labels[:, :2] == 2).all() and (labels[:, 2:] == 0).all()
    # padded 4 x 4 map of a 3 x 2 image, shown at 6 x 4
    out = crop_and_resize(logits[0], dict(img_shape=(3, 2), ori_shape=(6, 4)), mode='nearest')
    assert out.shape == (3, 6, 4) and (out.argmax(0) == 2).all()


def test_seg_head_loss_prefers_the_right_answer():
    torch.manual_seed(0)
    head = GLIDSegHead(embed_dims=4, **{k: v for k, v in SEG_HEAD.items() if k != 'type'})
    gt = InstanceData(labels=torch.tensor([1]), masks=torch.zeros(1, 8, 8, dtype=torch.bool))
    gt.masks[0, :4] = True
    f_b = torch.zeros(1, 4, 4, 4)
    f_b[0, 0, :2] = 1.  # channel 0 marks the top half at 1/4 scale... of an 8 px input
    f_b[0, 0, 2:] = -1.

    def answer(sign):
        with torch.no_grad():
            head.fc.weight.zero_()
            head.fc.bias.zero_()
            head.fc.bias[0] = 6. * sign  # mask embedding along channel 0
            head.fc.bias[4 + 1] = 6.  # class 1
        return head.loss(torch.zeros(1, 1, 1, 4), f_b, [gt])

    good, bad = answer(1.), answer(-1.)
    assert good['loss_dice'] < bad['loss_dice'] and good['loss_mask'] < bad['loss_mask']


def test_depth_bins_and_decoding():
    centers = bin_centers(torch.zeros(4), 0., 8.)
    assert torch.allclose(centers, torch.tensor([1., 3., 5., 7.]))
    # a longer first bin shifts every centre
    c2 = bin_centers(torch.tensor([float(np.log(2.)), 0., 0., 0.]), 0., 10.)
    assert torch.allclose(c2, torch.tensor([2., 5., 7., 9.]), atol=1e-5)

    head = GLIDDepthHead(embed_dims=2, min_depth=0., max_depth=8.,
                         loss_depth=dict(type='mmseg.SiLogLoss'))
    with torch.no_grad():
        head.fc.weight.zero_()
        head.fc.bias.zero_()
    # the linear layer copies answer channel 0 into embedding channel 0: only query 3 has
    # z = (10, 0). f_b channel 0 is 1 everywhere but on pixel (1, 1): the softmax picks bin 3
    # (7 m) where f_b is 1 and is uniform (mean centre 4 m) where it is 0
    hs = torch.zeros(1, 1, 4, 2)
    with torch.no_grad():
        head.fc.weight[1, 0] = 1.
    hs[0, 0, 3, 0] = 10.
    f_b = torch.ones(1, 2, 2, 2)
    f_b[0, 0, 1, 1] = 0.
    depth, cent = head(hs, f_b)
    assert depth.shape == (1, 1, 1, 2, 2)
    assert torch.allclose(cent[0, 0], torch.tensor([1., 3., 5., 7.]))
    assert torch.allclose(depth[0, 0, 0, 0, 0], torch.tensor(7.), atol=1e-3)
    assert torch.allclose(depth[0, 0, 0, 1, 1], torch.tensor(4.), atol=1e-5)


def test_chamfer_bin_loss():
    centers = torch.tensor([[1., 3.]])
    depth = torch.tensor([[[1., 3.], [3., 1.]]])
    valid = torch.ones_like(depth, dtype=torch.bool)
    assert chamfer_bin_loss(centers, depth, valid).item() == 0.
    assert chamfer_bin_loss(centers + 1., depth, valid).item() == pytest.approx(2.)
    assert chamfer_bin_loss(centers, depth, ~valid).item() == 0.


def _det_head():
    return GLIDDetHead(
        num_classes=3, embed_dims=4,
        loss_cls=dict(type='mmdet.CrossEntropyLoss', bg_cls_weight=0.1, use_sigmoid=False,
                      loss_weight=1.0, class_weight=1.0),
        loss_bbox=dict(type='mmdet.L1Loss', loss_weight=5.0),
        loss_iou=dict(type='mmdet.GIoULoss', loss_weight=2.0),
        train_cfg=dict(assigner=dict(type='mmdet.HungarianAssigner', match_costs=[
            dict(type='mmdet.ClassificationCost', weight=1.),
            dict(type='mmdet.BBoxL1Cost', weight=5.0, box_format='xywh'),
            dict(type='mmdet.IoUCost', iou_mode='giou', weight=2.0)])),
        test_cfg=dict(max_per_img=2))


def test_det_head_single_linear_layer_and_box_decoding():
    head = _det_head()
    assert head.fc.out_features == 4 + 3 + 1 and head.bg_cls_weight == 0.1
    assert np.allclose(head.loss_cls.class_weight, [1., 1., 1., .1])
    with torch.no_grad():
        head.fc.weight.zero_()
        # box (cx, cy, w, h) = sigmoid(bias) = (0.5, 0.25, 0.5, 0.25), class 2
        head.fc.bias.copy_(torch.tensor([0., -np.log(3.), 0., -np.log(3.), 0., 0., 8., 0.]))
    sample = DetDataSample(metainfo=dict(img_shape=(40, 80), ori_shape=(20, 40),
                                         scale_factor=(2., 2.), batch_input_shape=(40, 80)))
    pred = head.predict(torch.zeros(2, 1, 3, 4), [sample], rescale=True)[0]
    assert pred.labels[0].item() == 2
    # normalised box -> (20, 5, 60, 15) in the 80 x 40 input -> halved to the original image
    assert torch.allclose(pred.bboxes[0], torch.tensor([10., 2.5, 30., 7.5]), atol=1e-4)


def test_pose_head_heatmaps_and_codec_decoding():
    codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=1)
    head = GLIDPoseHead(embed_dims=3, codec=codec)
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(3))
        head.fc.bias.zero_()
    # keypoint query k selects channel k of f_b: heatmap k = f_b[k]
    enc = KEYPOINT_CODECS.build(codec).encode(
        np.array([[[20., 12.], [40., 48.], [8., 56.]]]), np.ones((1, 3)))
    f_b = torch.from_numpy(enc['heatmaps'])[None]
    heatmaps = head(torch.eye(3)[None, None], f_b)
    assert torch.allclose(heatmaps[0], f_b)
    pred = head.decode(heatmaps[0])[0]
    assert pred.keypoints.shape == (1, 3, 2)
    assert np.allclose(pred.keypoints[0], [[20., 12.], [40., 48.], [8., 56.]], atol=1.5)


def test_pose_head_starts_near_the_all_zero_heatmap():
    """The linear layer starts at std ``init_std`` (mmpose's last-layer convention): unit-scale
    answers and f_b give heatmaps of about ``init_std * C`` instead of ``sqrt(C / 3)``."""
    torch.manual_seed(0)
    codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
    head = GLIDPoseHead(embed_dims=64, codec=codec)
    hs, f_b = torch.randn(1, 2, 17, 64), torch.randn(2, 64, 16, 16)
    default_std = head(hs, f_b).std().item()  # nn.Linear's default init
    head.init_weights()
    assert head.fc.bias.abs().max() == 0
    assert abs(head.fc.weight.std().item() - 1e-3) < 2e-4
    assert head(hs, f_b).std().item() < 0.1 < 2. < default_std  # about 0.064 and 4.6


def test_pose_flip_test_swaps_flips_and_shifts_the_mirrored_heatmaps():
    """Flip test: the heatmaps of the mirrored crop are flipped back, left / right keypoints
    swapped (``flip_indices``) and shifted one column (MSRA), then averaged."""
    import copy

    from mmpose.structures import PoseDataSample

    from mmgen_vision.models.glid import GLIDPoseEstimator
    from test_glid_model import CORE
    codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
    model = GLIDPoseEstimator(encoder_decoder=copy.deepcopy(CORE), num_queries=2,
                              pose_head=dict(type='GLIDPoseHead', codec=codec),
                              test_cfg=dict(flip_test=True)).eval()
    image = torch.randn(1, 3, 64, 64)

    def fake_heatmaps(inputs):
        heatmaps = torch.zeros(1, 2, 16, 16)
        if torch.equal(inputs, image):
            heatmaps[0, 0, 8, 4] = 1.  # keypoint 0 (say, a left wrist) at column 4
        else:  # the mirrored crop: the same wrist is keypoint 1 at the mirrored column 11
            heatmaps[0, 1, 8, 11] = 1.
        return heatmaps

    model.heatmaps = fake_heatmaps
    sample = PoseDataSample(metainfo=dict(  # as mmpose's TopdownAffine sets them
        flip_indices=[1, 0], input_size=(64, 64), input_scale=np.array([64., 64.], np.float32),
        input_center=np.array([32., 32.], np.float32)))
    sample.gt_instances = InstanceData(bboxes=np.zeros((1, 4)), bbox_scores=np.ones(1))
    pred = model.predict(image, [sample])[0].pred_instances
    # keypoint 0: the average of a peak at column 4 and the flipped-back one at 15 - 11 + 1 = 5
    assert 4 * 4 < pred.keypoints[0, 0, 0] < 5 * 4 and pred.keypoints[0, 0, 1] == 8 * 4
    model.test_cfg['flip_test'] = False
    pred = model.predict(image, [sample])[0].pred_instances
    assert pred.keypoints[0, 0, 0] == 4 * 4
