# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The COCO panoptic format, and a fallback for ``panopticapi``.

mmdet 3.3's panoptic loader (``LoadPanopticAnnotations``) and metric (``CocoPanopticMetric``)
import ``panopticapi``, which is published only as a git repository (not on PyPI), so the
pinned stack cannot install it. :func:`install_panopticapi_fallback` registers, under that name
and only when the real package is missing, the few pieces mmdet uses, written from the format's
and the PQ metric's definitions: ``utils.rgb2id``/``id2rgb``, ``evaluation.PQStat``, ``VOID`` and
``OFFSET``. mmdet's own segment matching and metric then run unchanged.
"""
import sys
import types
from collections import defaultdict
from typing import Dict, Optional, Tuple

import numpy as np

#: ``panopticapi.evaluation`` constants: the void label and the pair-encoding offset.
VOID = 0
OFFSET = 256 * 256 * 256


def id_to_rgb(ids: np.ndarray) -> np.ndarray:
    """Panoptic id map ``(H, W)`` to the COCO RGB encoding ``id = R + 256 G + 256^2 B``.

    Returns:
        np.ndarray: uint8 array of shape ``(H, W, 3)``.
    """
    ids = np.asarray(ids, dtype=np.int64)
    return np.stack([ids % 256, (ids // 256) % 256, (ids // 65536) % 256], -1).astype(np.uint8)


def rgb_to_id(rgb: np.ndarray) -> np.ndarray:
    """Inverse of :func:`id_to_rgb`: ``(H, W, 3)`` uint8 to ``(H, W)`` int64 ids."""
    rgb = np.asarray(rgb, dtype=np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


class PQStatCat:
    """Per-category panoptic counts: true/false positives, false negatives, summed IoU."""

    def __init__(self) -> None:
        self.iou, self.tp, self.fp, self.fn = 0.0, 0, 0, 0

    def __iadd__(self, other: 'PQStatCat') -> 'PQStatCat':
        self.iou += other.iou
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self


class PQStat:
    """Panoptic quality accumulator with panopticapi's interface.

    Per category ``PQ = sum IoU / (TP + FP/2 + FN/2)``, ``SQ = sum IoU / TP``,
    ``RQ = TP / (TP + FP/2 + FN/2)``; averages run over the categories that occur in the ground
    truth or the prediction (``TP + FP + FN > 0``).
    """

    def __init__(self) -> None:
        self.pq_per_cat = defaultdict(PQStatCat)

    def __getitem__(self, category_id: int) -> PQStatCat:
        return self.pq_per_cat[category_id]

    def __iadd__(self, other: 'PQStat') -> 'PQStat':
        for category_id, stat in other.pq_per_cat.items():
            self.pq_per_cat[category_id] += stat
        return self

    def pq_average(self, categories: Dict[int, dict],
                   isthing: Optional[bool] = None) -> Tuple[dict, dict]:
        """Average PQ/SQ/RQ over ``categories`` (all, things only or stuff only).

        Returns:
            tuple[dict, dict]: ``{'pq', 'sq', 'rq', 'n'}`` and the per-category scores.
        """
        totals, per_class, num = dict(pq=0.0, sq=0.0, rq=0.0), {}, 0
        for category_id, info in categories.items():
            if isthing is not None and isthing != (info['isthing'] == 1):
                continue
            stat = self.pq_per_cat[category_id]
            denominator = stat.tp + 0.5 * stat.fp + 0.5 * stat.fn
            if denominator == 0:
                per_class[category_id] = dict(pq=0.0, sq=0.0, rq=0.0)
                continue
            num += 1
            scores = dict(pq=stat.iou / denominator, sq=stat.iou / stat.tp if stat.tp else 0.0,
                          rq=stat.tp / denominator)
            per_class[category_id] = scores
            for key in totals:
                totals[key] += scores[key]
        averages = {key: value / num if num else 0.0 for key, value in totals.items()}
        averages['n'] = num
        return averages, per_class


def install_panopticapi_fallback() -> bool:
    """Provide ``panopticapi`` when it is not installed (idempotent).

    Returns:
        bool: True when the fallback is in use, False when the real package is importable.
    """
    existing = sys.modules.get('panopticapi')
    if existing is not None:
        return getattr(existing, '__mmgen_vision_fallback__', False)
    try:
        import panopticapi  # noqa: F401
        return False
    except ImportError:
        pass
    package = types.ModuleType('panopticapi')
    package.__mmgen_vision_fallback__ = True
    package.utils = types.ModuleType('panopticapi.utils')
    package.utils.rgb2id, package.utils.id2rgb = rgb_to_id, id_to_rgb
    package.evaluation = types.ModuleType('panopticapi.evaluation')
    package.evaluation.VOID, package.evaluation.OFFSET = VOID, OFFSET
    package.evaluation.PQStat = PQStat
    for module in (package, package.utils, package.evaluation):
        sys.modules[module.__name__] = module
    # mmdet modules imported before this point bound `panopticapi = None`: complete them
    late = {
        'mmdet.evaluation.metrics.coco_panoptic_metric':
        dict(panopticapi=package, VOID=VOID, PQStat=PQStat, id2rgb=id_to_rgb, rgb2id=rgb_to_id),
        'mmdet.evaluation.functional.panoptic_utils':
        dict(PQStat=PQStat, rgb2id=rgb_to_id, VOID=VOID, OFFSET=OFFSET),
        'mmdet.apis.det_inferencer': dict(VOID=VOID, id2rgb=id_to_rgb),
    }
    for name, attrs in late.items():
        if name in sys.modules:
            for attr, value in attrs.items():
                setattr(sys.modules[name], attr, value)
    return True
