# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Label-only baselines: what a model that never looks at the image scores on a val split.

A learned model's metric means little on its own, least of all on a toy dataset; next to the
score of a prediction made from the label statistics alone it says whether anything was learned.
The baselines here are computed from the val annotations in their on-disk layouts (ADE20K, VOC,
COCO panoptic, RefCOCO), with the same averaging as the stock metrics:

- :func:`chance_miou`: every pixel labelled uniformly at random among ``K`` classes. A class
  covering a fraction ``p`` of the pixels has expected intersection ``p / K`` and union
  ``p + 1/K - p/K``, so its IoU is ``(p/K) / (p + 1/K - p/K)``;
- :func:`constant_miou`: every pixel given one label (e.g. the background, or the majority class
  in :func:`majority_miou`): that class's IoU is its pixel share ``p``, every other class gets 0;
- :func:`whole_image_ciou`: referring segmentation answering every expression with the whole
  image (cumulative intersection over cumulative union).

Segmentation means are taken over the classes present in the val labels, as mmseg's
``IoUMetric`` averages (absent classes are NaN and skipped).
"""
import json
import os
import os.path as osp
from typing import Dict, Iterable, Optional

import numpy as np
from PIL import Image

from mmgen_vision.utils.safe_load import safe_pickle_load


def label_pixel_counts(label_maps: Iterable[np.ndarray], num_classes: int,
                       ignore_index: int = 255, reduce_zero_label: bool = False) -> np.ndarray:
    """Pixels per class over label maps.

    Args:
        label_maps (Iterable[np.ndarray]): Integer label maps ``(H, W)``.
        num_classes (int): ``K``; labels outside ``[0, K)`` (and ``ignore_index``) are not
            counted.
        ignore_index (int): Label of unannotated pixels. Defaults to 255.
        reduce_zero_label (bool): The ADE20K convention: 0 is "other" (not counted) and label
            ``l > 0`` is class ``l - 1``. Defaults to False.

    Returns:
        np.ndarray: ``(K, )`` float64 pixel counts.
    """
    counts = np.zeros(num_classes)
    for label in label_maps:
        label = np.asarray(label).astype(np.int64)
        valid = label != ignore_index
        if reduce_zero_label:
            label = label - 1
        valid &= (label >= 0) & (label < num_classes)
        counts += np.bincount(label[valid], minlength=num_classes)[:num_classes]
    return counts


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.sum() <= 0:
        raise ValueError(f'need a 1-D array of pixel counts with a positive sum, got {counts}')
    return counts / counts.sum()


def chance_miou(counts: np.ndarray) -> float:
    """Expected mIoU (percent) of uniformly random labels among the ``len(counts)`` classes,
    averaged over the classes present."""
    p = _shares(counts)
    q = 1. / len(p)
    iou = (p * q) / (p + q - p * q)
    return float(100 * iou[np.asarray(counts) > 0].mean())


def constant_miou(counts: np.ndarray, label: int) -> float:
    """mIoU (percent) of labelling every pixel ``label``, averaged over the classes present."""
    p = _shares(counts)
    iou = np.zeros_like(p)
    iou[label] = p[label]
    return float(100 * iou[np.asarray(counts) > 0].mean())


def majority_miou(counts: np.ndarray) -> float:
    """mIoU (percent) of labelling every pixel with the most frequent class."""
    return constant_miou(counts, int(np.argmax(counts)))


def segmentation_baselines(counts: np.ndarray,
                           background_index: Optional[int] = None) -> Dict[str, float]:
    """The label-only mIoU baselines of a val split (percent).

    Returns:
        dict: ``chance`` and ``majority``, plus ``all_background`` when ``background_index``
        is given.
    """
    out = dict(chance=chance_miou(counts), majority=majority_miou(counts))
    if background_index is not None:
        out['all_background'] = constant_miou(counts, background_index)
    return out


# ------------------------------------------------------------------ readers of val layouts
def _read_png(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


def ade_pixel_counts(ade_root: str, num_classes: int, split: str = 'validation') -> np.ndarray:
    """Class pixel counts of an ADE20K-layout split (``annotations/<split>/*.png``, 0 = other,
    class ``l - 1`` for value ``l``)."""
    folder = osp.join(ade_root, 'annotations', split)
    names = sorted(n for n in os.listdir(folder) if n.endswith('.png'))
    if not names:
        raise FileNotFoundError(f'no label PNG in {folder}')
    return label_pixel_counts((_read_png(osp.join(folder, n)) for n in names), num_classes,
                              reduce_zero_label=True)


def voc_pixel_counts(voc_root: str, num_classes: int, split: str = 'val') -> np.ndarray:
    """Class pixel counts of a VOC-layout split (``ImageSets/Segmentation/<split>.txt``,
    ``SegmentationClass/<name>.png``, 255 ignored)."""
    with open(osp.join(voc_root, 'ImageSets', 'Segmentation', f'{split}.txt')) as f:
        names = f.read().split()
    return label_pixel_counts(
        (_read_png(osp.join(voc_root, 'SegmentationClass', f'{n}.png')) for n in names),
        num_classes)


def coco_panoptic_pixel_counts(coco_root: str, split: str = 'val2017') -> np.ndarray:
    """Pixel counts per category of a COCO panoptic split, in the order of the json's
    ``categories`` (the label order of mmdet's ``CocoPanopticDataset``)."""
    ann_dir = osp.join(coco_root, 'annotations')
    with open(osp.join(ann_dir, f'panoptic_{split}.json')) as f:
        pan = json.load(f)
    cat_to_label = {c['id']: i for i, c in enumerate(pan['categories'])}
    counts = np.zeros(len(cat_to_label))
    for ann in pan['annotations']:
        png = np.asarray(Image.open(osp.join(ann_dir, f'panoptic_{split}', ann['file_name']))
                         .convert('RGB')).astype(np.int64)
        ids = png[..., 0] + 256 * png[..., 1] + 256 * 256 * png[..., 2]
        for seg in ann['segments_info']:
            counts[cat_to_label[seg['category_id']]] += (ids == seg['id']).sum()
    return counts


def _whole_image_ious(refcoco_root: str, split: str, dataset: str,
                      split_by: str) -> np.ndarray:
    """``(N, 2)``: (referred area, image area) of every expression of a RefCOCO-layout split
    (an object with several sentences once per sentence)."""
    ann_dir = osp.join(refcoco_root, dataset)
    with open(osp.join(ann_dir, 'instances.json')) as f:
        inst = json.load(f)
    refs = safe_pickle_load(osp.join(ann_dir, f'refs({split_by}).p'))
    areas = {a['id']: a['area'] for a in inst['annotations']}
    sizes = {i['id']: i['width'] * i['height'] for i in inst['images']}
    pairs = [(areas[ref['ann_id']], sizes[ref['image_id']]) for ref in refs
             if ref['split'] == split for _ in ref['sentences']]
    if not pairs:
        raise ValueError(f'no expression of split {split!r} in {ann_dir}')
    return np.asarray(pairs, dtype=np.float64)


def whole_image_ciou(refcoco_root: str, split: str = 'val', dataset: str = 'refcoco',
                     split_by: str = 'unc') -> float:
    """cIoU (percent) of answering every expression of a RefCOCO-layout split with the whole
    image: the referred areas over the image areas, each counted once per sentence."""
    pairs = _whole_image_ious(refcoco_root, split, dataset, split_by)
    return float(100 * pairs[:, 0].sum() / pairs[:, 1].sum())


def whole_image_miou(refcoco_root: str, split: str = 'val', dataset: str = 'refcoco',
                     split_by: str = 'unc') -> float:
    """mIoU (percent) of the same answer: the mean over sentences of referred area / image
    area (``RefSegMetric``'s mIoU averages the per-sentence IoUs)."""
    pairs = _whole_image_ious(refcoco_root, split, dataset, split_by)
    return float(100 * np.mean(pairs[:, 0] / pairs[:, 1]))


__all__ = [
    'label_pixel_counts', 'chance_miou', 'constant_miou', 'majority_miou',
    'segmentation_baselines', 'ade_pixel_counts', 'voc_pixel_counts',
    'coco_panoptic_pixel_counts', 'whole_image_ciou', 'whole_image_miou'
]
