# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Class-agnostic instances <-> position colours (SOLO-style), and the panoptic merge."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.models.layers.matrix_nms import mask_matrix_nms
from mmdet.structures.mask import mask2bbox
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS
from .base import BaseImageCodec, ones_valid, require


@TASK_UTILS.register_module()
class InstanceCodec(BaseImageCodec):
    """Each instance is painted in the colour of its mass centre's cell.

    The image is split into ``grid x grid`` position cells (80 x 80), grouped into
    ``cells x cells`` global cells (4 x 4) of ``local x local`` local cells (20 x 20):
    ``R = 255 - r_step * (gy * cells + gx)``, ``G = 255 - g_step * ly``, ``B = 255 - b_step * lx``.
    Background is black. Larger instances are painted first so small ones stay visible.

    Decoding: every pixel is matched to its nearest position colour; a colour with at least
    ``min_area`` pixels within ``dist_thr`` gives a mask whose score is
    ``1 - mean(distance) / dist_thr``; Matrix-NMS (gaussian, ``sigma``) then keeps the top
    ``max_per_img``. Classes come from the majority vote of a semantic label map.

    Args:
        cells (int): Global cells per side.
        local (int): Local cells per global cell side.
        steps (tuple[int, int, int]): Colour steps of R, G, B.
        dist_thr (float): Colour distance threshold of a mask (19 in the release).
        min_area (int): Smallest decoded mask (pixels).
        nms_sigma (float): Matrix-NMS gaussian sigma.
        max_per_img (int): Instances kept.
        score_thr (float): Minimum score after Matrix-NMS.
    """
    resize_mode = 'nearest'
    target_resize_mode = 'nearest'
    augment = False
    decode_priority = 1  # after the semantic prompt: classes are voted from `pred_sem_seg`

    def __init__(self, cells: int = 4, local: int = 20, steps: Sequence[int] = (15, 13, 13),
                 dist_thr: float = 19., min_area: int = 4, nms_sigma: float = 2.,
                 max_per_img: int = 100, score_thr: float = 0.) -> None:
        self.cells, self.local = cells, local
        self.grid = cells * local
        self.steps = tuple(steps)
        if 255 - self.steps[0] * (cells * cells - 1) <= 0 or 255 - self.steps[1] * (
                local - 1) < 0 or 255 - self.steps[2] * (local - 1) < 0:
            raise ValueError(f'colour steps {self.steps} overflow for {cells}x{local} cells')
        self.dist_thr = dist_thr
        self.min_area = min_area
        self.nms_sigma = nms_sigma
        self.max_per_img = max_per_img
        self.score_thr = score_thr
        gy, gx = np.meshgrid(np.arange(self.grid), np.arange(self.grid), indexing='ij')
        self.palette = self.cell_colour(gy.ravel(), gx.ravel())  # (grid^2, 3)

    def cell_colour(self, cy: np.ndarray, cx: np.ndarray) -> np.ndarray:
        """Position cell indices ``(N,)`` -> ``(N, 3)`` uint8 RGB."""
        cy, cx = np.asarray(cy), np.asarray(cx)
        g = (cy // self.local) * self.cells + cx // self.local
        r = 255 - self.steps[0] * g
        green = 255 - self.steps[1] * (cy % self.local)
        blue = 255 - self.steps[2] * (cx % self.local)
        return np.stack([r, green, blue], axis=-1).astype(np.uint8)

    def instance_colours(self, masks: np.ndarray) -> np.ndarray:
        """``(N, H, W)`` masks -> ``(N, 3)`` colours of their mass centres."""
        n, h, w = masks.shape
        colours = np.zeros((n, 3), dtype=np.uint8)
        for i, mask in enumerate(masks):
            ys, xs = np.nonzero(mask)
            if len(ys) == 0:
                continue
            cy = min(int(ys.mean() / h * self.grid), self.grid - 1)
            cx = min(int(xs.mean() / w * self.grid), self.grid - 1)
            colours[i] = self.cell_colour(np.array([cy]), np.array([cx]))[0]
        return colours

    def nearest_colour(self, pred: Tensor) -> Tuple[Tensor, Tensor]:
        """Nearest position colour of every pixel of ``(3, H, W)``: ``(H*W,)`` euclidean
        distances and palette indices (``cy * grid + cx``).

        The palette is the full product of the R (global cell), G (local row) and B (local
        column) levels, so the nearest colour is the nearest level of each channel: exact, and
        ``O(HW (cells^2 + 2 local))`` instead of ``O(HW grid^2)`` distances.
        """
        pixels = pred.float().flatten(1)  # (3, HW)
        levels = [255. - self.steps[0] * torch.arange(self.cells * self.cells),
                  255. - self.steps[1] * torch.arange(self.local),
                  255. - self.steps[2] * torch.arange(self.local)]
        sq, idx = [], []
        for c, lv in enumerate(levels):
            d = (pixels[c][:, None] - lv.to(pixels)[None]).square()
            m, i = d.min(1)
            sq.append(m)
            idx.append(i)
        g, ly, lx = idx
        cy = (g // self.cells) * self.local + ly
        cx = (g % self.cells) * self.local + lx
        return (sq[0] + sq[1] + sq[2]).sqrt(), cy * self.grid + cx

    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        masks = require(results, 'gt_masks', 'InstanceCodec')
        masks = masks.to_ndarray() if hasattr(masks, 'to_ndarray') else np.asarray(masks)
        h, w = results.get('img_shape', masks.shape[1:])[:2]
        target = np.zeros((h, w, 3), dtype=np.uint8)
        if len(masks):
            masks = masks.astype(bool)
            colours = self.instance_colours(masks)
            for i in np.argsort(-masks.reshape(len(masks), -1).sum(1), kind='stable'):
                target[masks[i]] = colours[i]
        return target, ones_valid((h, w))

    def decode(self, pred: Tensor, sem_seg: Optional[Tensor] = None, **kwargs) -> InstanceData:
        """``(3, H, W)`` 0-255 -> ``InstanceData`` (``masks`` bool ``(N, H, W)``, ``scores``,
        ``labels`` (majority semantic class, 0 without ``sem_seg``), ``bboxes`` xyxy)."""
        h, w = pred.shape[1:]
        dist, nearest = self.nearest_colour(pred)
        near = dist < self.dist_thr
        ids, counts = torch.unique(nearest[near], return_counts=True)
        ids = ids[counts >= self.min_area]
        result = InstanceData()
        if len(ids) == 0:
            result.masks = torch.zeros((0, h, w), dtype=torch.bool, device=pred.device)
            result.scores = pred.new_zeros((0, ))
            result.labels = torch.zeros((0, ), dtype=torch.long, device=pred.device)
            result.bboxes = pred.new_zeros((0, 4))
            return result
        masks = (nearest[None] == ids[:, None]) & near[None]
        mean_dist = (dist[None] * masks).sum(1) / masks.sum(1)
        scores = 1. - mean_dist / self.dist_thr
        masks = masks.view(-1, h, w)
        scores, labels, masks, keep = mask_matrix_nms(
            masks, torch.zeros_like(ids), scores, filter_thr=self.score_thr,
            max_num=self.max_per_img, kernel='gaussian', sigma=self.nms_sigma,
            mask_area=masks.sum((1, 2)).float())
        if sem_seg is not None:
            labels = majority_labels(masks, sem_seg)
        result.masks, result.scores, result.labels = masks, scores, labels
        result.bboxes = mask2bbox(masks)
        return result

    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        sem_seg = data_sample.pred_sem_seg.data[0] if 'pred_sem_seg' in data_sample else None
        data_sample.pred_instances = self.decode(pred, sem_seg=sem_seg)


def majority_labels(masks: Tensor, sem_seg: Tensor) -> Tensor:
    """Most frequent ``sem_seg`` label inside each of the ``(N, H, W)`` masks."""
    labels = torch.zeros(len(masks), dtype=torch.long, device=masks.device)
    for i, mask in enumerate(masks):
        values = sem_seg[mask]
        if values.numel():
            labels[i] = torch.mode(values.long()).values
    return labels


def panoptic_merge(instances: InstanceData, sem_seg: Tensor, thing_labels: Sequence[int],
                   num_classes: int, score_thr: float = 0.55, overlap_thr: float = 0.5,
                   stuff_area: int = 8192, instance_offset: int = 1000) -> Tensor:
    """Combine class-agnostic instances and a semantic map into a panoptic map (the release's
    thresholds; detectron2-style combination).

    Instances above ``score_thr`` are pasted by decreasing score, each dropped if less than
    ``1 - overlap_thr`` of it is still free; then every stuff class of ``sem_seg`` with at
    least ``stuff_area`` free pixels fills them.

    Returns:
        Tensor: ``(H, W)`` long map in mmdet's encoding ``label + id * instance_offset``;
        unassigned pixels are ``num_classes`` (void).
    """
    h, w = sem_seg.shape
    pan = torch.full((h, w), num_classes, dtype=torch.long, device=sem_seg.device)
    taken = torch.zeros((h, w), dtype=torch.bool, device=sem_seg.device)
    things = set(int(t) for t in thing_labels)
    next_id = 1
    order = torch.argsort(instances.scores, descending=True)
    for i in order.tolist():
        label = int(instances.labels[i])
        if float(instances.scores[i]) < score_thr or label not in things:
            continue
        mask = instances.masks[i].bool()
        area = int(mask.sum())
        if area == 0:
            continue
        free = mask & ~taken
        if int(free.sum()) / area < 1 - overlap_thr:
            continue
        pan[free] = label + next_id * instance_offset
        taken |= free
        next_id += 1
    for label in torch.unique(sem_seg).tolist():
        if label in things or not 0 <= label < num_classes:
            continue
        free = (sem_seg == label) & ~taken
        if int(free.sum()) >= stuff_area:
            pan[free] = label
            taken |= free
    return pan


@TASK_UTILS.register_module()
class PanopticMerger:
    """Configurable :func:`panoptic_merge` (writes ``pred_panoptic_seg`` into a data sample).

    Args:
        thing_labels (sequence[int]): Contiguous labels of the thing classes.
        num_classes (int): Things + stuff.
        score_thr, overlap_thr, stuff_area: See :func:`panoptic_merge` (release: 0.55, 0.5,
            8192).
    """

    def __init__(self, thing_labels: Sequence[int], num_classes: int, score_thr: float = 0.55,
                 overlap_thr: float = 0.5, stuff_area: int = 8192) -> None:
        self.thing_labels = tuple(thing_labels)
        self.num_classes = num_classes
        self.score_thr, self.overlap_thr, self.stuff_area = score_thr, overlap_thr, stuff_area

    def __call__(self, data_sample) -> None:
        """Needs ``pred_instances`` (with semantic labels) and ``pred_sem_seg``."""
        for key in ('pred_instances', 'pred_sem_seg'):
            if key not in data_sample:
                raise KeyError(f'PanopticMerger needs `{key}` in the data sample (run the '
                               'instance and the semantic prompts first)')
        pan = panoptic_merge(data_sample.pred_instances, data_sample.pred_sem_seg.data[0],
                             self.thing_labels, self.num_classes, self.score_thr,
                             self.overlap_thr, self.stuff_area)
        data_sample.pred_panoptic_seg = PixelData(sem_seg=pan[None])
