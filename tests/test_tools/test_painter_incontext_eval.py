# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter in-context evaluation with several prompts per query (COCO panoptic = semantic +
class-agnostic instances, merged) and with the keypoint flip test.

* Oracle tests: the real toy configs' evaluation datasets (ShapesWorld, stock COCO layouts), the
  real ``Painter.test_step`` (preprocessor -> predict -> codecs -> merger) and the stock metric
  (``mmdet.CocoPanopticMetric``, ``mmpose.CocoMetric``); only ``predict_canvas`` is replaced by
  an oracle that paints the codec-encoded ground truth of the canvas it is given, looked up by
  the canvas' query pixels and prompt target (so the oracle follows whatever order the model
  batches the prompts and mirrored queries in). A correct pipeline then scores (almost)
  perfectly; a wrong one must not: the controls paint the instance and semantic answers into
  each other's prompt, or mirror the flipped query's answer without swapping left and right.
* Plumbing: ``tools/test.py`` on both toy configs with a random tiny checkpoint produces the
  stock metrics' keys.
"""
import os.path as osp
import re
from typing import Callable, Dict, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

import mmgen_vision.datasets  # noqa: F401
import mmgen_vision.evaluation  # noqa: F401
import mmgen_vision.models  # noqa: F401
from conftest import REPO_ROOT, latest_metrics, run_tool
from mmgen_vision.registry import DATASETS, METRICS, MODELS

PANOPTIC_CONFIG = osp.join(REPO_ROOT,
                           'configs/painter/painter_vit-tiny-p4_toy-shapesworld_panoptic.py')
POSE_CONFIG = osp.join(REPO_ROOT, 'configs/painter/painter_vit-tiny-p4_toy-shapesworld_pose.py')
ADE = 'ade/ADEChallengeData2016'
# the oracle paints at the scenes' / crops' own size, so the ground truth survives exactly
PANOPTIC_SIZE = (96, 96)
POSE_CROP = (48, 64)  # (w, h) as the toy config
POSE_SIZE = (64, 48)


def _panoptic_cfg(root: str) -> Config:
    cfg = Config.fromfile(PANOPTIC_CONFIG)
    ds = cfg.test_dataloader.dataset
    ds.img_size = PANOPTIC_SIZE
    ds.dataset.data_root = osp.join(root, 'coco')
    ds.prompts.semantic.prompt.dataset.data_root = osp.join(root, ADE)
    ds.prompts.instance.prompt.dataset.data_root = osp.join(root, 'coco')
    cfg.test_evaluator.ann_file = osp.join(root, 'coco/annotations/panoptic_val2017.json')
    cfg.test_evaluator.seg_prefix = osp.join(root, 'coco/annotations/panoptic_val2017/')
    return cfg


def _pose_cfg(root: str) -> Config:
    cfg = Config.fromfile(POSE_CONFIG)
    ds = cfg.test_dataloader.dataset
    ds.img_size = POSE_SIZE
    ds.dataset.data_root = osp.join(root, 'coco')
    ds.prompt.dataset.data_root = osp.join(root, 'coco')
    cfg.test_evaluator.ann_file = osp.join(root, 'coco/annotations/person_keypoints_val2017.json')
    return cfg


def _key(query: np.ndarray, prompt_target: np.ndarray) -> Tuple[bytes, bytes]:
    return np.ascontiguousarray(query).tobytes(), np.ascontiguousarray(prompt_target).tobytes()


class Oracle:
    """``predict_canvas`` stand-in: paints ``table[(query pixels, prompt target)]``."""

    def __init__(self, model, table: Dict[Tuple[bytes, bytes], np.ndarray]) -> None:
        self.model, self.table = model, table
        self.calls = []

    def __call__(self, imgs, tgts, use_cache=None):
        half = imgs.shape[2] // 2
        self.calls.append(imgs.shape[0])
        to_uint8 = (lambda x: self.model.denormalize(x).round().byte().permute(0, 2, 3, 1)
                    .cpu().numpy())
        queries, prompts = to_uint8(imgs[:, :, half:]), to_uint8(tgts[:, :, :half])
        out = []
        for q, p in zip(queries, prompts):
            painted = self.table[_key(q, p)]  # KeyError: the canvas is not a known query
            out.append(torch.from_numpy(painted).permute(2, 0, 1).float()[None])
        out = torch.cat(out) / 255.
        return (out - self.model.pixel_mean) / self.model.pixel_std


def _evaluate(cfg: Config, dataset, model, table, batch_size: int = 4) -> Tuple[dict, Oracle]:
    """Run every query of the config's test dataset through ``model.test_step`` (its
    ``predict_canvas`` replaced by the oracle) and the config's stock metric."""
    init_default_scope('mmgen_vision')
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = dataset.metainfo
    oracle = Oracle(model, table)
    model.predict_canvas = oracle
    for start in range(0, len(dataset), batch_size):
        batch = pseudo_collate([dataset[i] for i in range(start, min(start + batch_size,
                                                                     len(dataset)))])
        with torch.no_grad():
            outputs = model.test_step(batch)
        metric.process(batch, [o.to_dict() for o in outputs])
    return metric.evaluate(len(dataset)), oracle


# ----------------------------------------------------------------------------- panoptic
def _panoptic_table(dataset, swap: bool = False) -> Dict[Tuple[bytes, bytes], np.ndarray]:
    """(query, prompt target) -> the query's encoded semantic / instance ground truth (taken
    from the packed stock sample's ``gt_sem_seg`` / ``gt_instances``)."""
    sem_codec = dataset.codecs['semantic']
    inst_codec = dataset.codecs['instance']
    table = {}
    for i in range(len(dataset)):
        item = dataset[i]
        sample = item['data_samples']
        seg = sample.gt_sem_seg.sem_seg[0].numpy()
        masks = sample.gt_instances.masks.to_ndarray()
        sem, _ = sem_codec.encode(dict(gt_seg_map=seg))
        inst, _ = inst_codec.encode(dict(gt_masks=masks, img_shape=seg.shape))
        answers = dict(semantic=sem, instance=inst)
        if swap:
            answers = dict(semantic=inst, instance=sem)
        for k, task in enumerate(sample.prompt_tasks):
            canvas = item['inputs'][k].permute(1, 2, 0).numpy()
            target = sample.target[k].permute(1, 2, 0).numpy()
            half = canvas.shape[0] // 2
            table[_key(canvas[half:], target[:half])] = answers[task]
    return table


@pytest.fixture(scope='module')
def panoptic(shapesworld_root):
    """The toy config (pointed at the test data), its test dataset and its model."""
    cfg = _panoptic_cfg(shapesworld_root)
    init_default_scope('mmgen_vision')
    return cfg, DATASETS.build(cfg.test_dataloader.dataset), MODELS.build(cfg.model).eval()


def test_panoptic_oracle_scores_pq_100_through_the_stock_metric(panoptic):
    cfg, dataset, model = panoptic
    result, oracle = _evaluate(cfg, dataset, model, _panoptic_table(dataset))
    # one forward pass of B * 2 canvases per batch (16 val queries, batches of 4)
    assert oracle.calls == [8, 8, 8, 8]
    # every segment is recovered (measured: PQ 100.0; the swapped control below: 1.7); the
    # margin allows for an instance under the codec's 4-pixel minimum area or two mass
    # centres in one of the 80 x 80 colour cells. PQ_th also checks the instances' classes,
    # voted from the semantic prompt's output (all-zero labels would fail it).
    assert result['coco_panoptic/PQ'] > 97, result
    assert result['coco_panoptic/PQ_th'] > 95 and result['coco_panoptic/PQ_st'] > 99, result


def test_panoptic_prompt_slots_matter(panoptic):
    """Control: the answers of the two prompts swapped (instances painted for the semantic
    prompt and vice versa) -> the merge must fall apart (the oracle above: PQ > 97; measured
    here: 1.7)."""
    cfg, dataset, model = panoptic
    result, _ = _evaluate(cfg, dataset, model, _panoptic_table(dataset, swap=True))
    assert result['coco_panoptic/PQ'] < 30, result


def test_panoptic_with_prompt_cache(shapesworld_root):
    """With ``use_cache`` each prompt slot is one cached pass (the cache keeps both prompts)."""
    cfg = _panoptic_cfg(shapesworld_root)
    cfg.test_dataloader.dataset.img_size = (48, 48)  # the toy model's canvas halves
    cfg.model.backbone.prompt_isolation = True
    cfg.model.test_cfg.use_cache = True
    init_default_scope('mmgen_vision')
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(3)])
    data = model.data_preprocessor(batch, False)
    assert data['inputs']['imgs'].shape == (3, 2, 3, 96, 48)
    with torch.no_grad():
        cached = model.predict_canvas
        per_slot = [cached(data['inputs']['imgs'][:, k], data['inputs']['tgts'][:, k],
                           use_cache=False) for k in range(2)]
        assert len(model._prompt_cache) == 0
        painted = model.paint_multi_prompt(data['inputs']['imgs'], data['inputs']['tgts'])
        assert len(model._prompt_cache) == 2
        again = model.paint_multi_prompt(data['inputs']['imgs'], data['inputs']['tgts'])
    for k in range(2):
        ref = model.denormalize(per_slot[k])
        assert (painted[:, k] - ref).abs().max() < 1e-3
    assert torch.equal(painted, again)
    with torch.no_grad():
        outputs = model.predict(data['inputs'], data['data_samples'])
    assert outputs[0].pred_panoptic_seg.sem_seg.shape == (1, 96, 96)
    assert set(outputs[0].pred_painting.keys()) == {'semantic', 'instance'}


# ----------------------------------------------------------------------------- keypoints
def _pose_table(dataset, raw, flipped_answer: Callable
                ) -> Dict[Tuple[bytes, bytes], np.ndarray]:
    """(query or mirrored query, prompt target) -> its encoded keypoints (``raw``: the query
    dataset without the packer)."""
    codec = dataset.codec
    table = {}
    for i in range(len(dataset)):
        item = dataset[i]
        canvas = item['inputs'].permute(1, 2, 0).numpy()
        target = item['data_samples'].target.permute(1, 2, 0).numpy()
        half = canvas.shape[0] // 2
        results = raw[i]
        kpts = np.asarray(results['transformed_keypoints'], np.float32)[0, :, :2]
        vis = np.asarray(results['keypoints_visible'], np.float32).reshape(-1, 17)[0]
        h, w = results['img'].shape[:2]
        painted, _ = codec.encode_keypoints(kpts, vis, (h, w))
        table[_key(canvas[half:], target[:half])] = painted
        table[_key(canvas[half:, ::-1], target[:half])] = flipped_answer(codec, kpts, vis, (h, w))
    return table


def _mirrored_person(codec, kpts, vis, size):
    """What a correct model paints for the mirrored crop: joint ``j`` sits where the mirror of
    its left / right partner was (x -> w - 1 - x: the crop is mirrored pixel by pixel)."""
    flip = np.asarray(codec.flip_indices)
    mirrored = kpts[flip].copy()
    mirrored[:, 0] = size[1] - 1 - mirrored[:, 0]
    return codec.encode_keypoints(mirrored, vis[flip], size)[0]


def _mirrored_picture(codec, kpts, vis, size):
    """Wrong: the painting of the original crop, mirrored (left and right not swapped)."""
    return np.ascontiguousarray(codec.encode_keypoints(kpts, vis, size)[0][:, ::-1])


@pytest.fixture(scope='module')
def pose(shapesworld_root):
    """The toy config (pointed at the test data), its test dataset, the same persons without
    the packer, and the model."""
    cfg = _pose_cfg(shapesworld_root)
    init_default_scope('mmgen_vision')
    ds_cfg = cfg.test_dataloader.dataset
    raw = DATASETS.build(dict(ds_cfg.dataset, pipeline=ds_cfg.dataset.pipeline[:-1]))
    return cfg, DATASETS.build(ds_cfg), raw, MODELS.build(cfg.model).eval()


@pytest.mark.parametrize('flip_test', [False, True])
def test_keypoint_oracle_ap_with_and_without_flip(pose, flip_test):
    cfg, dataset, raw, model = pose
    assert cfg.model.test_cfg.flip_test  # the toy config evaluates with the flip test
    model.test_cfg['flip_test'] = flip_test
    result, oracle = _evaluate(cfg, dataset, model, _pose_table(dataset, raw, _mirrored_person))
    n = len(dataset)
    # flip test: the query and its mirror go through one forward pass
    assert sum(oracle.calls) == n * (2 if flip_test else 1)
    # exact ground truth painted at the 64 x 48 crop: only the heatmap decoder's sub-pixel
    # error remains, which costs some of the strictest OKS thresholds on these small persons
    # (measured: AP 0.92, AP .75 1.0, with and without flip; the control below: AP 0.07)
    assert result['coco/AP'] > 0.9 and result['coco/AP .75'] == 1, result


def test_keypoint_flip_test_without_left_right_swap_fails(pose):
    """Control: a flipped prediction whose joints are not swapped back must score well below
    the oracle's AP > 0.9 (the flip test's averaging then blurs left and right together)."""
    cfg, dataset, raw, model = pose
    model.test_cfg['flip_test'] = True
    result, _ = _evaluate(cfg, dataset, model, _pose_table(dataset, raw, _mirrored_picture))
    assert result['coco/AP'] < 0.3, result


# ----------------------------------------------------------------------------- tools/test.py
@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory):
    """A random toy Painter checkpoint (the 4-task toy model: no parameters depend on the
    codecs, so it serves both configs)."""
    cfg = Config.fromfile(POSE_CONFIG)
    init_default_scope('mmgen_vision')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = str(tmp_path_factory.mktemp('painter_ckpt') / 'random.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def _no_workers() -> list:
    return ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


@pytest.mark.slow
def test_tools_test_panoptic_toy_config(shapesworld_root, random_checkpoint, tmp_path):
    coco, ade = osp.join(shapesworld_root, 'coco'), osp.join(shapesworld_root, ADE)
    run_tool(['tools/test.py', PANOPTIC_CONFIG, random_checkpoint, '--work-dir', str(tmp_path),
              '--cfg-options', f'test_dataloader.dataset.dataset.data_root={coco}',
              f'test_dataloader.dataset.prompts.semantic.prompt.dataset.data_root={ade}',
              f'test_dataloader.dataset.prompts.instance.prompt.dataset.data_root={coco}',
              f'test_evaluator.ann_file={coco}/annotations/panoptic_val2017.json',
              f'test_evaluator.seg_prefix={coco}/annotations/panoptic_val2017/'] + _no_workers(),
             env={'OMP_NUM_THREADS': '1'})
    metrics = latest_metrics(str(tmp_path))
    for key in ('PQ', 'SQ', 'RQ', 'PQ_th', 'PQ_st'):
        assert 0 <= metrics[f'coco_panoptic/{key}'] <= 100, metrics


@pytest.mark.slow
def test_tools_test_pose_toy_config_with_flip(shapesworld_root, random_checkpoint, tmp_path):
    coco = osp.join(shapesworld_root, 'coco')
    proc = run_tool(['tools/test.py', POSE_CONFIG, random_checkpoint, '--work-dir',
                     str(tmp_path), '--cfg-options',
                     f'test_dataloader.dataset.dataset.data_root={coco}',
                     f'test_dataloader.dataset.prompt.dataset.data_root={coco}',
                     f'test_evaluator.ann_file={coco}/annotations/person_keypoints_val2017.json']
                    + _no_workers(), env={'OMP_NUM_THREADS': '1'})
    metrics = latest_metrics(str(tmp_path))
    assert 0 <= metrics['coco/AP'] <= 1, metrics
    assert re.search(r'flip_test=True', proc.stdout), 'the toy config should run the flip test'
