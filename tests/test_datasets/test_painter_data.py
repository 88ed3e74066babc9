# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter data: pair dataset (stitching, codecs, augmentation), in-context evaluation dataset,
multi-task sampler, restoration folders and the PSNR / SSIM metric."""
import os.path as osp
from collections import Counter

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mmgen_vision.datasets  # noqa: F401
import mmgen_vision.evaluation  # noqa: F401
import mmgen_vision.models  # noqa: F401
from mmgen_vision.registry import DATA_SAMPLERS, DATASETS, METRICS, TASK_UTILS

init_default_scope('mmgen_vision')
ADE = 'ade/ADEChallengeData2016'


def _semseg_dataset(root, split='training', pack=False):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='mmseg.LoadAnnotations')]
    if pack:
        pipeline.append(dict(type='mmseg.PackSegInputs'))
    return dict(type='ShapesWorldSegDataset', data_root=osp.join(root, ADE),
                data_prefix=dict(img_path=f'images/{split}', seg_map_path=f'annotations/{split}'),
                pipeline=pipeline)


def _sidd_dataset(root, split='train', pack=False):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadPairedImage')]
    if pack:
        pipeline.append(dict(type='PackRestorationInputs'))
    return dict(type='PainterRestorationDataset', data_root=osp.join(root, 'restoration', 'sidd'),
                input_dir=f'{split}/input', target_dir=f'{split}/target', pipeline=pipeline)


def test_pair_dataset_stitches_two_encoded_samples(shapesworld_root):
    ds = DATASETS.build(dict(type='PainterPairDataset', task='semantic',
                             codec=dict(type='SemanticCodec', num_classes=7), img_size=(48, 48),
                             dataset=_semseg_dataset(shapesworld_root)))
    item = ds.pair(3, 7)  # no augmentation: plain resizing
    img, sample = item['inputs'], item['data_samples']
    assert img.shape == (3, 96, 48) and img.dtype == torch.uint8
    assert sample.target.shape == (3, 96, 48) and sample.valid.shape == (3, 96, 48)
    assert sample.task == 'semantic' and sample.img_path.endswith('00000004.jpg')
    # the bottom half's target decodes to the (resized) label map of sample 3
    codec = TASK_UTILS.build(dict(type='SemanticCodec', num_classes=7))
    raw = ds.dataset[3]
    labels = codec.decode(sample.target[:, 48:].float())
    import cv2
    expected = cv2.resize(raw['gt_seg_map'].astype(np.uint8), (48, 48),
                          interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(labels.numpy(), expected)
    # the top half is the example (sample 7); the image halves are the two RGB scenes
    bgr = cv2.resize(ds.dataset[7]['img'], (48, 48), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(img[:, :48].permute(1, 2, 0).numpy(), bgr[..., ::-1])


def test_pair_dataset_augments_jointly_and_not_for_instances(shapesworld_root):
    aug = dict(scale=(0.3, 1.), ratio=(3 / 4, 4 / 3), flip_prob=0.5,
               color_jitter=dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, prob=1.))
    ds = DATASETS.build(dict(type='PainterPairDataset', task='depth',
                             codec=dict(type='DepthCodec', max_depth=20.), img_size=(32, 32),
                             augment=aug,
                             dataset=dict(type='mmseg.NYUDataset',
                                          data_root=osp.join(shapesworld_root, 'nyu'),
                                          data_prefix=dict(img_path='train/rgb',
                                                           depth_map_path='train/depth'),
                                          pipeline=[dict(type='LoadImageFromFile'),
                                                    dict(type='mmseg.LoadDepthAnnotation',
                                                         depth_rescale_factor=1e-3)])))
    assert ds.geometric
    torch.manual_seed(0)
    item = ds[5]
    t = item['data_samples'].target
    assert (t[0] == t[1]).all() and (t[1] == t[2]).all()  # still a gray depth image
    inst = DATASETS.build(dict(type='PainterPairDataset', task='instance',
                               codec=dict(type='InstanceCodec'), img_size=(32, 32), augment=aug,
                               dataset=dict(type='mmdet.CocoDataset',
                                            data_root=osp.join(shapesworld_root, 'coco'),
                                            ann_file='annotations/instances_train2017.json',
                                            data_prefix=dict(img='train2017/'),
                                            pipeline=[dict(type='LoadImageFromFile'),
                                                      dict(type='mmdet.LoadAnnotations',
                                                           with_bbox=True, with_mask=True)])))
    assert not inst.geometric  # the release does not augment instances (nor keypoints)
    a, b = inst.pair(0, 1), inst.pair(0, 1)
    assert torch.equal(a['inputs'], b['inputs']) and torch.equal(a['data_samples'].target,
                                                                 b['data_samples'].target)


def test_in_context_dataset_packs_the_stock_sample(shapesworld_root):
    ds = DATASETS.build(dict(
        type='PainterInContextDataset', task='semantic',
        codec=dict(type='SemanticCodec', num_classes=7), img_size=(48, 48),
        prompt=dict(dataset=_semseg_dataset(shapesworld_root), index=2),
        dataset=_semseg_dataset(shapesworld_root, 'validation', pack=True)))
    item = ds[0]
    sample = item['data_samples']
    assert type(sample).__name__ == 'SegDataSample'
    assert sample.gt_sem_seg.data.shape == (1, 96, 96)  # ground truth at the original size
    assert sample.task == 'semantic' and tuple(sample.ori_shape) == (96, 96)
    assert item['inputs'].shape == (3, 96, 48)
    # top and bottom of the target canvas are the prompt's target; top of the image the prompt
    assert torch.equal(sample.target[:, :48], sample.target[:, 48:])
    assert torch.equal(item['inputs'][:, :48], torch.from_numpy(ds.prompt_img).permute(2, 0, 1))
    with pytest.raises(IndexError, match='prompt index 999'):
        ds.set_prompt(dataset=_semseg_dataset(shapesworld_root), index=999)


def test_multi_task_sampler_follows_weights(shapesworld_root):
    concat = DATASETS.build(dict(
        type='ConcatDataset', ignore_keys=['task'], datasets=[
            dict(type='PainterPairDataset', task='semantic',
                 codec=dict(type='SemanticCodec', num_classes=7),
                 dataset=_semseg_dataset(shapesworld_root)),
            dict(type='PainterPairDataset', task='denoise', codec=dict(type='RestorationCodec'),
                 dataset=_sidd_dataset(shapesworld_root))]))
    a = concat.datasets[0]
    sampler = DATA_SAMPLERS.build(dict(type='MultiTaskWeightedSampler',
                                       weights=dict(semantic=0.2, denoise=0.8), seed=0),
                                  default_args=dict(dataset=concat))
    it = iter(sampler)
    draws = [next(it) for _ in range(4000)]
    share = Counter(i >= len(a) for i in draws)[True] / len(draws)
    assert abs(share - 0.8) < 0.03
    assert min(draws) >= 0 and max(draws) < len(concat)
    with pytest.raises(KeyError, match='unknown tasks'):
        DATA_SAMPLERS.build(dict(type='MultiTaskWeightedSampler', weights=dict(semantic=1., x=1.)),
                            default_args=dict(dataset=concat))


def test_restoration_dataset_and_metric(shapesworld_root, tmp_path):
    ds = DATASETS.build(_sidd_dataset(shapesworld_root, 'val', pack=True))
    item = ds[0]
    gt = item['data_samples'].gt_img.data
    assert gt.shape == (3, 96, 96)
    metric = METRICS.build(dict(type='RestorationMetric'))
    noisy = item['inputs'].flip(0).float()  # BGR -> RGB
    metric.process({}, [dict(pred_img=dict(data=gt.float()), gt_img=dict(data=gt))])
    metric.process({}, [dict(pred_img=dict(data=noisy), gt_img=dict(data=gt))])
    res = metric.compute_metrics(metric.results)
    mse = ((noisy.double() - gt.double())**2).mean().item()
    assert metric.results[0] == dict(PSNR=float('inf'), SSIM=pytest.approx(1.0))
    one = METRICS.build(dict(type='RestorationMetric'))
    one.process({}, [dict(pred_img=dict(data=noisy), gt_img=dict(data=gt))])
    r1 = one.compute_metrics(one.results)
    assert abs(r1['PSNR'] - 10 * np.log10(255**2 / mse)) < 1e-9
    assert 0 < r1['SSIM'] < 1 and res['SSIM'] == pytest.approx((1 + r1['SSIM']) / 2)
    with pytest.raises(ValueError, match='metrics'):
        METRICS.build(dict(type='RestorationMetric', metric_names=['LPIPS']))
    (tmp_path / 'in').mkdir()
    (tmp_path / 'gt').mkdir()
    import shutil
    shutil.copy(ds[0]['data_samples'].img_path, tmp_path / 'in' / 'a.png')
    with pytest.raises(FileNotFoundError, match='no clean image'):
        DATASETS.build(dict(type='PainterRestorationDataset', data_root=str(tmp_path),
                            input_dir='in', target_dir='gt'))


def test_keypoint_in_context_path_through_stock_coco_metric(shapesworld_root):
    """A prediction that paints the query's encoded ground truth scores AP 1 with the stock
    mmpose CocoMetric: codec decoding, crop -> image coordinates and packing are right."""
    root = osp.join(shapesworld_root, 'coco')
    load = [dict(type='mmpose.LoadImage'), dict(type='mmpose.GetBBoxCenterScale'),
            dict(type='mmpose.TopdownAffine', input_size=(96, 128))]
    val = dict(type='mmpose.CocoDataset', data_root=root, data_mode='topdown',
               ann_file='annotations/person_keypoints_val2017.json',
               data_prefix=dict(img='val2017/'))
    codec_cfg = dict(type='KeypointCodec', sigma=2., id_radius=1)
    ds = DATASETS.build(dict(
        type='PainterInContextDataset', task='pose', codec=codec_cfg, img_size=(128, 96),
        prompt=dict(dataset=dict(val, pipeline=load), index=0),
        dataset=dict(val, pipeline=load + [dict(type='mmpose.PackPoseInputs')])))
    raw = DATASETS.build(dict(val, pipeline=load))
    codec = TASK_UTILS.build(codec_cfg)
    metric = METRICS.build(dict(type='mmpose.CocoMetric',
                                ann_file=osp.join(root, 'annotations',
                                                  'person_keypoints_val2017.json')))
    metric.dataset_meta = ds.dataset.metainfo
    assert len(ds) >= 2
    for i in range(len(ds)):
        item = ds[i]
        sample = item['data_samples']
        assert item['inputs'].shape == (3, 256, 96)
        target, _ = codec.encode(raw[i])
        pred = torch.from_numpy(target).permute(2, 0, 1).float()
        assert codec.output_shape(sample.metainfo, (0, 0)) == (128, 96)
        codec.decode_to_sample(pred, sample)
        metric.process({}, [sample.to_dict()])
    result = metric.compute_metrics(metric.results)
    assert result['AP'] > 0.9, result


def test_in_context_dataset_with_several_prompts(shapesworld_root):
    """``prompts``: one canvas per prompt (in the given order), the same query below each,
    each prompt encoded by its own codec; exclusive with ``codec`` / ``prompt``."""
    inst_prompt = dict(
        type='mmdet.CocoDataset', data_root=osp.join(shapesworld_root, 'coco'),
        ann_file='annotations/instances_train2017.json', data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=('circle', 'square', 'triangle', 'star', 'person')),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True)])
    prompts = dict(
        semantic=dict(codec=dict(type='SemanticCodec', num_classes=7),
                    prompt=dict(dataset=_semseg_dataset(shapesworld_root), index=0)),
        instance=dict(codec=dict(type='InstanceCodec'), prompt=dict(dataset=inst_prompt,
                                                                    index=0)))
    cfg = dict(type='PainterInContextDataset', task='panoptic', img_size=(48, 48),
               prompts=prompts, dataset=_semseg_dataset(shapesworld_root, 'validation', True))
    ds = DATASETS.build(cfg)
    item = ds[1]
    img, sample = item['inputs'], item['data_samples']
    assert img.shape == (2, 3, 96, 48) and sample.target.shape == (2, 3, 96, 48)
    assert sample.task == 'panoptic' and sample.prompt_tasks == ('semantic', 'instance')
    assert torch.equal(img[0, :, 48:], img[1, :, 48:])  # the same query under both prompts
    assert not torch.equal(sample.target[0, :, :48], sample.target[1, :, :48])
    for k, task in enumerate(sample.prompt_tasks):
        p_img, p_tgt, _ = ds.prompt_pairs[task]
        assert torch.equal(img[k, :, :48], torch.from_numpy(p_img).permute(2, 0, 1))
        assert torch.equal(sample.target[k, :, 48:], torch.from_numpy(p_tgt).permute(2, 0, 1))
    # the instance prompt is in the instance codec's colours (its palette), not the semantic's
    inst_codec = TASK_UTILS.build(dict(type='InstanceCodec'))
    colours = {tuple(c) for c in ds.prompt_pairs['instance'][1].reshape(-1, 3)} - {(0, 0, 0)}
    assert colours and colours <= {tuple(c) for c in inst_codec.palette}
    # prompts are replaced by name
    ds.set_prompt(task='semantic', dataset=_semseg_dataset(shapesworld_root), index=3)
    assert not torch.equal(ds[1]['inputs'][0, :, :48], img[0, :, :48])
    assert torch.equal(ds[1]['inputs'][1], img[1])
    with pytest.raises(KeyError, match='name the prompt'):
        ds.set_prompt(dataset=_semseg_dataset(shapesworld_root), index=0)
    with pytest.raises(ValueError, match='not both'):
        DATASETS.build(dict(cfg, codec=dict(type='InstanceCodec')))
    with pytest.raises(KeyError, match='needs'):
        DATASETS.build(dict(cfg, prompts=dict(semantic=dict(codec=dict(type='InstanceCodec')))))
    with pytest.raises(ValueError, match='needs `codec` and `prompt`'):
        DATASETS.build(dict(cfg, prompts=None))
