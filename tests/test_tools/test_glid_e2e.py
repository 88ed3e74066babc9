# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID acceptance tests, all through the tools.

1. Toy pre-training (``configs/glid/glid_toy_shapesworld-pretrain.py``) on ShapesWorld's
   ImageNet-style folders through ``tools/train.py`` must bring the masked-patch MSE on the val
   images well below the predict-the-mean baseline: at most ``MIM_MAX_RATIO`` times the MSE of
   predicting every masked pixel as the per-channel mean of the training images, and below the
   stronger "mean of the image's visible pixels" baseline.
2. From that one checkpoint (a session fixture in ``tests/conftest.py``), each task's toy
   config is fine-tuned through ``tools/train.py`` and evaluated through ``tools/test.py``
   with the stock metric: semantic segmentation (``mmseg.IoUMetric``) beats the chance mIoU
   computed from the val labels by ``SEG_MIN_MARGIN`` points; depth (``mmseg.DepthMetric``)
   has an RMSE at most ``DEPTH_MAX_RATIO`` times that of the constant train-mean prediction;
   pose (``mmpose.CocoMetric``, ground-truth person boxes, flip test) reaches ``POSE_MIN_AP``
   keypoint AP where a model without keypoints scores 0 (and the toy config before its pose
   fixes scored 0.000). Detection (``mmdet.CocoMetric``: box AP@0.5 0.02 above the AP@0.5 of
   each category's mean train box on every val image, and >= 0.05) trains on the same COCO files rewritten as a user's own:
   ``tests/test_own_data/test_own_data_coco_det.py``.
3. One multi-task fine-tuning (panoptic + instance + semantic heads on one shared
   encoder-decoder) is scored by the three stock metrics in one ``tools/test.py`` run: PQ
   (``mmdet.CocoPanopticMetric``) at least ``PAN_MIN_PQ`` and mask AP@0.5
   (``mmdet.CocoMetric(segm)``) at least ``INS_MIN_AP50``, both 0 for a model without masks,
   and mIoU (``mmdet.SemSegMetric``) ``SEG_MIN_MARGIN`` points above uniform chance.
"""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO_ROOT, last_checkpoint, latest_metrics, run_tool

pytestmark = pytest.mark.slow

CONFIGS = osp.join(REPO_ROOT, 'configs', 'glid')
NUM_VAL = 32  # val images of tests/conftest.py's glid_roots (64 px, 256 train)
ENV = {'OMP_NUM_THREADS': '1'}

MIM_MAX_RATIO = 0.6
SEG_MIN_MARGIN = 10.0  # mIoU points above chance
DEPTH_MAX_RATIO = 0.5
POSE_MIN_AP = 0.05
# multi-task: a model without masks scores PQ 0 and mask AP 0; PAN_MIN_PQ is met by the stuff
# (sky, ground) alone: every stuff segment right and no thing would give 2/7 = 28.6
PAN_MIN_PQ = 15.0
INS_MIN_AP50 = 0.03


def _no_workers(*loaders) -> list:
    return [f'{name}.{key}' for name in loaders
            for key in ('num_workers=0', 'persistent_workers=False')]


@pytest.fixture(scope='module')
def roots(glid_roots) -> dict:
    """ShapesWorld in GLID's layouts (``tests/conftest.py``), shared with
    ``tests/test_own_data/test_own_data_coco_det.py``."""
    return glid_roots


@pytest.fixture(scope='module')
def pretrained(glid_pretrained) -> str:
    """One toy pre-training run shared by every GLID fine-tuning test of the session."""
    return glid_pretrained


def _finetune(config: str, checkpoint: str, tmp_path, options: list) -> dict:
    """Fine-tune through tools/train.py, evaluate the result through tools/test.py."""
    work_dir = str(tmp_path / 'train')
    run_tool(['tools/train.py', osp.join(CONFIGS, config), '--work-dir', work_dir,
              '--cfg-options', f'model.pretrained.checkpoint={checkpoint}'] + options +
             _no_workers('train_dataloader', 'val_dataloader', 'test_dataloader'), env=ENV)
    finetuned = last_checkpoint(work_dir)
    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', osp.join(CONFIGS, config), finetuned, '--work-dir', test_dir,
              '--cfg-options'] + options +
             _no_workers('train_dataloader', 'val_dataloader', 'test_dataloader'), env=ENV)
    return latest_metrics(test_dir)


def _val_images(root: str, mean, std) -> torch.Tensor:
    with open(osp.join(root, 'meta', 'val.txt')) as f:
        names = [line.split()[0] for line in f if line.strip()]
    imgs = [np.asarray(Image.open(osp.join(root, 'val', n)).convert('RGB')) for n in names]
    x = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float()
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def test_pretraining_beats_predict_the_mean(roots, pretrained):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmgen_vision.models  # noqa: F401
    from mmgen_vision.models.glid import patchify
    from mmgen_vision.registry import MODELS
    from mmgen_vision.utils.checkpoint import load_local_checkpoint
    cfg = Config.fromfile(osp.join(CONFIGS, 'glid_toy_shapesworld-pretrain.py'))
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        model = MODELS.build(cfg.model)
    model.load_state_dict(load_local_checkpoint(pretrained)['state_dict'])
    model.eval()
    assert not model.norm_pix_loss  # the baselines below are in the normalised-pixel space
    prep = cfg.model.data_preprocessor
    # the data preprocessor converts BGR to RGB; PIL already reads RGB
    val = _val_images(roots['imagenet'], prep.mean, prep.std)
    with open(osp.join(roots['imagenet'], 'meta', 'train.txt')) as f:
        names = [line.split()[0] for line in f if line.strip()]
    train_mean = np.mean([np.asarray(Image.open(osp.join(roots['imagenet'], 'train', n))
                                     .convert('RGB'), dtype=np.float64).mean((0, 1))
                          for n in names], axis=0)
    mu = (torch.tensor(train_mean).float() - torch.tensor(prep.mean)) / torch.tensor(prep.std)
    with torch.no_grad():
        out = model.reconstruct(val, generator=torch.Generator().manual_seed(0))
    p = model.mask_patch_size
    mse = ((out['pred'] - out['target'])**2).mean().item()
    mean_pred = mu.view(1, 1, 3).expand(p, p, 3).reshape(-1)
    mean_base = ((out['target'] - mean_pred)**2).mean().item()
    patches = patchify(val, p)
    visible = ~out['mask'].flatten(1)
    vis_mean = torch.stack([patches[b][visible[b]].view(-1, 3).mean(0)
                            for b in range(len(val))])
    vis_pred = vis_mean[:, None, None].expand(-1, p * p, 1, 3).reshape(len(val), 1, -1)
    vis_base = ((out['target'] - vis_pred)**2).mean().item()
    report = (f'toy GLID masked-patch MSE {mse:.4f} vs predict-the-mean {mean_base:.4f} and '
              f'visible-mean {vis_base:.4f}')
    print(report)
    assert mse <= MIM_MAX_RATIO * mean_base, report
    assert mse < vis_base, report


def _chance_miou(ade_root: str, num_classes: int = 7) -> float:
    """Expected mIoU (percent) of uniformly random labels, over the classes present."""
    counts = np.zeros(num_classes)
    folder = osp.join(ade_root, 'annotations', 'validation')
    for i in range(NUM_VAL):
        label = np.asarray(Image.open(osp.join(folder, f'ADE_val_{i + 1:08d}.png'))).astype(int)
        counts += np.bincount(label[label > 0] - 1, minlength=num_classes)[:num_classes]
    return _chance_miou_of_counts(counts)


def _chance_miou_of_counts(counts: np.ndarray) -> float:
    """Expected mIoU (percent) of uniformly random labels given the val pixel counts per
    class, averaged over the classes present (as IoUMetric averages, ignoring NaN)."""
    num_classes = len(counts)
    p = counts / counts.sum()
    q = 1. / num_classes
    chance = (p * q) / (p + q - p * q)
    return 100 * chance[counts > 0].mean()


def test_semantic_segmentation_beats_chance(roots, pretrained, tmp_path):
    root = roots['ade']
    metrics = _finetune('glid_toy_shapesworld-ade-semseg.py', pretrained, tmp_path, [
        f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'])
    chance = _chance_miou(root)
    report = f'toy GLID mIoU {metrics["mIoU"]:.2f} vs chance {chance:.2f}'
    print(report)
    assert metrics['mIoU'] >= chance + SEG_MIN_MARGIN, report


def _depth_baseline_rmse(nyu_root: str, max_depth: float = 20.5) -> float:
    """Mean per-image RMSE (DepthMetric's averaging) of predicting the train mean depth."""
    def depths(split):
        folder = osp.join(nyu_root, split, 'depth')
        for name in sorted(os.listdir(folder)):
            d = np.asarray(Image.open(osp.join(folder, name))).astype(np.float64) / 1000.
            yield d[(d > 1e-3) & (d < max_depth)]
    train = np.concatenate(list(depths('train')))
    const = train.mean()
    return float(np.mean([np.sqrt(np.mean((d - const)**2)) for d in depths('val')]))


def test_depth_beats_mean_baseline(roots, pretrained, tmp_path):
    root = roots['nyu']
    metrics = _finetune('glid_toy_shapesworld-nyu-depth.py', pretrained, tmp_path, [
        f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'])
    baseline = _depth_baseline_rmse(root)
    report = f'toy GLID depth RMSE {metrics["rmse"]:.3f} m vs train-mean baseline {baseline:.3f}'
    print(report)
    assert metrics['rmse'] <= DEPTH_MAX_RATIO * baseline, report


# Detection (``mmdet.CocoMetric``, box AP@0.5 above a prior-box baseline, from this pre-training) is trained on
# these COCO files rewritten as a user's own (classes renamed, category ids 10 / 20 / 30 / 45 / 7)
# through the child config of docs/own_data.md: tests/test_own_data/test_own_data_coco_det.py.


def test_pose_keypoint_ap(roots, pretrained, tmp_path):
    root = roots['coco']
    ann = osp.join(root, 'annotations', 'person_keypoints_val2017.json')
    metrics = _finetune('glid_toy_shapesworld-coco-pose.py', pretrained, tmp_path, [
        f'train_dataloader.dataset.data_root={root}', f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}', f'val_evaluator.ann_file={ann}',
        f'test_evaluator.ann_file={ann}'])
    report = f'toy GLID keypoint AP {metrics["coco/AP"]:.3f} (stated minimum {POSE_MIN_AP})'
    print(report)
    assert metrics['coco/AP'] >= POSE_MIN_AP, report


def _coco_semseg_counts(coco_root: str, num_classes: int = 7) -> np.ndarray:
    """Val pixels per class of the COCO-panoptic semantic PNGs (contiguous labels, 255
    unlabelled)."""
    counts = np.zeros(num_classes)
    folder = osp.join(coco_root, 'annotations', 'panoptic_semseg_val2017')
    for name in sorted(os.listdir(folder)):
        label = np.asarray(Image.open(osp.join(folder, name))).astype(int).ravel()
        counts += np.bincount(label[label < num_classes], minlength=num_classes)
    return counts


def test_multitask_panoptic_instance_semantic(roots, pretrained, tmp_path):
    """One multi-task fine-tuning (shared encoder, decoder and queries; one linear layer per
    task), every head decoded by ``tools/test.py`` and scored by its stock metric."""
    root = roots['coco']
    ann = osp.join(root, 'annotations')
    options = [f'{loader}.dataset.data_root={root}'
               for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    for evaluator in ('val_evaluator', 'test_evaluator'):
        options += [f'{evaluator}.0.ann_file={ann}/panoptic_val2017.json',
                    f'{evaluator}.0.seg_prefix={ann}/panoptic_val2017/',
                    f'{evaluator}.1.ann_file={ann}/instances_val2017.json']
    metrics = _finetune('glid_toy_shapesworld-coco-multitask.py', pretrained, tmp_path, options)
    chance = _chance_miou_of_counts(_coco_semseg_counts(root))
    report = (f'toy GLID multi-task: PQ {metrics["coco_panoptic/PQ"]:.2f} (things '
              f'{metrics["coco_panoptic/PQ_th"]:.2f}, stuff {metrics["coco_panoptic/PQ_st"]:.2f}), '
              f'mask AP {metrics["coco/segm_mAP"]:.3f} / AP50 {metrics["coco/segm_mAP_50"]:.3f}, '
              f'mIoU {metrics["mIoU"]:.2f} vs chance {chance:.2f}')
    print(report)
    assert metrics['coco_panoptic/PQ'] >= PAN_MIN_PQ, report
    assert metrics['coco/segm_mAP_50'] >= INS_MIN_AP50, report
    assert metrics['mIoU'] >= chance + SEG_MIN_MARGIN, report
