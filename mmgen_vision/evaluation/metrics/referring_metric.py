# Copyright (c) mmgen_vision contributors. All rights reserved.
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgen_vision.registry import METRICS


@METRICS.register_module()
class ReferringSegMetric(BaseMetric):
    """Referring (text-conditioned binary) segmentation metrics.

    Every sample is one expression: its prediction ``pred_sem_seg`` and its ground truth
    ``gt_sem_seg`` are label maps in which ``foreground_index`` marks the referred object and
    any other value is background; ground-truth pixels equal to ``ignore_index`` are left out.
    From the per-sample intersection ``I_i`` and union ``U_i`` of the two foregrounds:

    - ``mIoU``: the mean over samples of ``I_i / U_i`` (a sample whose prediction and ground
      truth are both empty has IoU 1, a correct "nothing" answer);
    - ``cIoU``: the cumulative (overall) IoU ``sum_i I_i / sum_i U_i``;
    - ``Prec@t`` for each ``t`` in ``iou_thrs``: the fraction of samples with ``IoU_i >= t``.

    All values are percentages, as mmseg reports its metrics.

    Args:
        iou_thrs (Sequence[float]): IoU thresholds of the precision metrics.
            Defaults to ``(0.5, 0.7, 0.9)``.
        foreground_index (int): Label of the referred object in both maps. Defaults to 1.
        ignore_index (int): Ground-truth label excluded from the evaluation. Defaults to 255.
        collect_device (str): Device used to collect results across ranks, ``'cpu'`` or
            ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to None.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 iou_thrs: Sequence[float] = (0.5, 0.7, 0.9),
                 foreground_index: int = 1,
                 ignore_index: int = 255,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        iou_thrs = [float(t) for t in iou_thrs]
        if any(not 0.0 <= t <= 1.0 for t in iou_thrs):
            raise ValueError(f'iou_thrs must lie in [0, 1], got {iou_thrs}')
        self.iou_thrs = iou_thrs
        self.foreground_index = foreground_index
        self.ignore_index = ignore_index

    @staticmethod
    def _label_map(data_sample: dict, key: str) -> torch.Tensor:
        if key not in data_sample:
            raise KeyError(f'ReferringSegMetric needs `{key}` in every data sample '
                           f'(got keys {sorted(data_sample)})')
        data = data_sample[key]['data']
        return data.squeeze(0) if data.dim() == 3 else data

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the foreground intersection and union of every sample.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs with ``pred_sem_seg`` and
                ``gt_sem_seg``.
        """
        for data_sample in data_samples:
            pred = self._label_map(data_sample, 'pred_sem_seg')
            gt = self._label_map(data_sample, 'gt_sem_seg').to(pred.device)
            if pred.shape != gt.shape:
                raise ValueError(
                    f'pred_sem_seg {tuple(pred.shape)} and gt_sem_seg {tuple(gt.shape)} of '
                    f'{data_sample.get("img_path", "a sample")} differ in size; predictions '
                    'must be returned at the size of the ground truth')
            valid = gt != self.ignore_index
            pred_fg = (pred == self.foreground_index) & valid
            gt_fg = (gt == self.foreground_index) & valid
            intersection = int((pred_fg & gt_fg).sum())
            union = int((pred_fg | gt_fg).sum())
            self.results.append((intersection, union))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Compute mIoU, cIoU and the precisions (percent) from all samples.

        Args:
            results (list[tuple[int, int]]): ``(intersection, union)`` of every sample.

        Returns:
            dict[str, float]: ``mIoU``, ``cIoU`` and ``Prec@<t>`` for every threshold.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        intersections = np.array([r[0] for r in results], dtype=np.float64)
        unions = np.array([r[1] for r in results], dtype=np.float64)
        # both empty: the prediction is exactly right
        ious = np.where(unions > 0, intersections / np.maximum(unions, 1), 1.0)
        metrics = OrderedDict()
        metrics['mIoU'] = float(100.0 * ious.mean())
        total_union = unions.sum()
        metrics['cIoU'] = float(100.0 * intersections.sum() / total_union) \
            if total_union > 0 else 100.0
        for thr in self.iou_thrs:
            metrics[f'Prec@{thr:g}'] = float(100.0 * (ious >= thr).mean())
        logger.info(f'Referring segmentation over {len(results)} expressions: ' +
                    ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()))
        return metrics
