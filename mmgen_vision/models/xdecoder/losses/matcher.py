# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Hungarian matching of mask predictions on sampled points (Mask2Former style), built on
``mmdet.HungarianAssigner`` and mmdet's match costs."""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.ops import point_sample
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmengine.structures import InstanceData
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS


def grid_point_coords(height: int, width: int, device=None) -> Tensor:
    """Normalised ``(x, y)`` coordinates of the pixel centres of an ``height x width`` grid.

    Returns:
        Tensor: ``(height * width, 2)`` in ``[0, 1]``, row-major, as ``mmcv.ops.point_sample``
        takes them. Sampling a map of that size there returns its pixels exactly.
    """
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=-1)


def sample_points(masks: Tensor, coords: Tensor) -> Tensor:
    """Bilinearly sample ``masks`` ``(N, H, W)`` at ``coords`` ``(P, 2)`` or ``(N, P, 2)``.

    Returns:
        Tensor: ``(N, P)`` float values.
    """
    num = masks.shape[0]
    if coords.dim() == 2:
        coords = coords[None].expand(num, -1, -1)
    if num == 0:
        return masks.new_zeros((0, coords.shape[1]), dtype=torch.float32)
    return point_sample(masks[:, None].float(), coords.to(masks.device)).squeeze(1)


@TASK_UTILS.register_module()
class QuerySoftmaxCost(BaseMatchCost):
    """Class cost of grounding: ``-softmax over the queries`` of each phrase's logits.

    ``pred_instances.scores`` is ``(num_queries, P)`` (query-phrase logits) and
    ``gt_instances.labels`` the phrase index of every target; the cost of (query q, target t) is
    ``-softmax(scores[:, labels[t]], dim=queries)[q] * weight``. (``mmdet.ClassificationCost``
    normalises over the classes instead.)

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        probs = pred_instances.scores.float().softmax(dim=0)
        return -probs[:, gt_instances.labels] * self.weight


@TASK_UTILS.register_module()
class PointSampledMatcher:
    """One-to-one matching of query masks to ground-truth masks for one image.

    Both the predicted mask logits and the ground-truth masks are sampled at the same
    ``num_points`` uniformly random points (or, with ``num_points=None``, at the pixel centres of
    the prediction grid, which is deterministic), then ``mmdet.HungarianAssigner`` minimises the
    sum of ``match_costs`` (defaults: ``mmdet.ClassificationCost`` 2, sigmoid
    ``mmdet.CrossEntropyLossCost`` 5, ``mmdet.DiceCost`` 5, the X-Decoder / Mask2Former values).

    Args:
        match_costs (Sequence[dict]): Match cost configs of the assigner. Costs read
            ``pred_instances.scores`` ``(Q, C)`` / ``.masks`` ``(Q, P)`` and
            ``gt_instances.labels`` ``(N,)`` / ``.masks`` ``(N, P)``.
        num_points (int, optional): Sampled points. Defaults to 12544 (112 x 112).
    """

    def __init__(self,
                 match_costs: Sequence[dict] = (
                     dict(type='mmdet.ClassificationCost', weight=2.0),
                     dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                     dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)),
                 num_points: Optional[int] = 12544) -> None:
        if num_points is not None and num_points < 1:
            raise ValueError(f'num_points must be positive or None, got {num_points}')
        costs = []
        for cost in match_costs:
            cost = dict(cost)
            # the assigner builds its costs in mmdet's scope: name ours with their scope
            if isinstance(cost.get('type'), str) and '.' not in cost['type'] \
                    and cost['type'] in TASK_UTILS.module_dict:
                cost['type'] = f'{TASK_UTILS.scope}.{cost["type"]}'
            costs.append(cost)
        self.assigner = TASK_UTILS.build(
            dict(type='mmdet.HungarianAssigner', match_costs=costs))
        self.num_points = num_points

    def point_coords(self, mask_preds: Tensor) -> Tensor:
        """``(P, 2)`` coordinates used for matching ``mask_preds`` ``(Q, h, w)``."""
        if self.num_points is None:
            return grid_point_coords(*mask_preds.shape[-2:], device=mask_preds.device)
        return torch.rand((self.num_points, 2), device=mask_preds.device)

    @torch.compiler.disable  # SciPy's assignment on per-image shapes: eager under compile
    @torch.no_grad()
    def __call__(self, scores: Tensor, mask_preds: Tensor, gt_labels: Tensor,
                 gt_masks: Tensor) -> Tuple[Tensor, Tensor]:
        """Match one image.

        Args:
            scores (Tensor): ``(Q, C)`` class (or phrase) logits.
            mask_preds (Tensor): ``(Q, h, w)`` mask logits.
            gt_labels (Tensor): ``(N,)`` long targets of the class cost.
            gt_masks (Tensor): ``(N, H, W)`` binary masks (any resolution).

        Returns:
            tuple[Tensor, Tensor]: Matched query indices and ground-truth indices, both
            ``(min(Q, N),)`` long, sorted by query.
        """
        coords = self.point_coords(mask_preds)
        pred = InstanceData(scores=scores.detach().float(),
                            masks=sample_points(mask_preds.detach(), coords))
        gt = InstanceData(labels=gt_labels, masks=sample_points(gt_masks, coords))
        result = self.assigner.assign(pred_instances=pred, gt_instances=gt)
        query_inds = torch.nonzero(result.gt_inds > 0, as_tuple=False).squeeze(1)
        return query_inds, result.gt_inds[query_inds] - 1
