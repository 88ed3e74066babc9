# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder training criterion.

Contract with the decoder (``outputs`` of the head, one dict per prediction; ``L + 1``
predictions, the last one final, the first from the learnable queries):

- ``pred_logits`` ``(B, Q, K+1)``: ``exp(logit_scale) * cos(query semantic embedding,
  class-name text embedding)``, the "background" embedding last;
- ``pred_masks`` ``(B, Q, h, w)``: mask logits at 1/4 resolution;
- ``pred_grd_logits`` ``(B, Qg, P)``: logits between the copied latent block's semantic outputs
  and the ``P`` referring phrases of each image (an image with ``P_b < P`` phrases uses the
  first ``P_b`` columns); ``pred_grd_masks`` ``(B, Qg, h, w)``;
- ``pred_captions`` ``(B, T, V)``: token logits (weights tied to the token embedding), or
  ``query_text_embeds`` ``(B, T, D)`` with that embedding as ``caption_weight`` ``(V, D)``: the
  logits are then computed at the caption's tokens only (what the head hands over in training);
- ``image_embeds`` ``(B, D)`` (global query) and ``text_embeds`` ``(B, D)`` (pooled captions),
  both unnormalised, and ``logit_scale`` (scalar, before ``exp``); for the fine-grained
  retrieval term also ``class_embeds`` ``(B, Q, D)`` (every latent query, the global one last),
  ``text_token_embeds`` ``(B, T, D)`` (the captions' token embeddings) and ``text_token_mask``
  ``(B, T)`` (bool, SOT..EOT).

Targets, one dict per image: ``labels`` ``(N,)`` long in ``[0, K)`` and ``masks`` ``(N, H, W)``
bool (generic segmentation); ``grd_masks`` ``(P, H, W)`` bool (referring); ``caption_tokens``
``(T,)`` long with ``caption_mask`` ``(T,)`` bool (captioning; the logits at ``t`` predict token
``t + 1``). Retrieval pairs image ``b`` with the caption embedded in ``text_embeds[b]``.

Each loss is computed where its prediction key is present: the mask losses (``loss_cls``,
``loss_mask``, ``loss_dice``) on every prediction, the grounding (``loss_grd_ce``,
``loss_grd_mask``, ``loss_grd_dice``), captioning (``loss_caption``) and retrieval
(``loss_retrieval``) losses on the last ``num_semantic_predictions``. The final prediction's
losses keep their name; prediction ``i`` of the others is prefixed ``d{i}.`` as in mmdet
(``d0.loss_mask`` is the prediction of the learnable queries).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.losses.cross_entropy_loss import cross_entropy
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from mmdet.utils import reduce_mean
from torch import Tensor, nn

from mmgen_vision.registry import MODELS, TASK_UTILS
from .matcher import grid_point_coords, sample_points
from .semantic_losses import (caption_loss, image_text_contrastive_loss,
                              query_token_contrastive_loss, tied_caption_loss)


def _sigmoid_ce(weight: float) -> dict:
    """Point-wise sigmoid cross-entropy of mask logits (``mmdet.CrossEntropyLoss``)."""
    return dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean',
                loss_weight=weight)


def _dice(weight: float) -> dict:
    """Mask Dice loss (``mmdet.DiceLoss``, naive Dice with eps 1 as in the release)."""
    return dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True, reduction='mean',
                naive_dice=True, eps=1.0, loss_weight=weight)


@MODELS.register_module()
class XDecoderCriterion(nn.Module):
    """All of X-Decoder's training losses with deep supervision (see the module docstring).

    Defaults are the Focal-T release's: matcher costs class 2 / mask BCE 5 / Dice 5 on 12544
    points; class CE 2 with no-object weight 0.1; mask BCE 5 and Dice 5 on 12544 importance-
    sampled points (oversample 3, importance 0.75); grounding CE 0.4, BCE 1, Dice 1 with its own
    matching (class cost = softmax over queries); retrieval 2 (global term + 0.5 x query-token
    term) and captioning 2; semantic losses on the last 3 of the 10 predictions.

    Args:
        matcher (dict): ``PointSampledMatcher`` config of generic segmentation.
        grounding_matcher (dict): ``PointSampledMatcher`` config of referring segmentation.
        loss_cls_weight (float): Weight of the class cross-entropy. Defaults to 2.0.
        no_object_weight (float): Class weight of the background (last) class. Defaults to 0.1.
        loss_mask (dict): Point-wise mask loss (sigmoid ``mmdet.CrossEntropyLoss``, weight 5).
        loss_dice (dict): Mask Dice loss (``mmdet.DiceLoss``, weight 5).
        loss_grd_ce_weight (float): Weight of the grounding cross-entropy over queries.
            Defaults to 0.4.
        loss_grd_mask (dict): Grounding mask BCE (weight 1).
        loss_grd_dice (dict): Grounding mask Dice (weight 1).
        loss_retrieval_weight (float): Image-text contrastive weight. Defaults to 2.0.
        loss_retrieval_fine_weight (float): Weight of the query-token term inside the
            retrieval loss (:func:`query_token_contrastive_loss`, added to the global term
            when the predictions carry ``class_embeds`` and ``text_token_embeds``). Defaults
            to 0.5 (the release).
        loss_caption_weight (float): Captioning cross-entropy weight. Defaults to 2.0.
        num_points (int, optional): Points of the mask losses; None uses every pixel of the
            prediction grid (deterministic, no importance sampling). Defaults to 12544.
        oversample_ratio (float): Importance sampling oversampling. Defaults to 3.0.
        importance_sample_ratio (float): Fraction of the points taken where the prediction is
            most uncertain. Defaults to 0.75.
        num_semantic_predictions (int): How many of the last predictions get the grounding,
            captioning and retrieval losses. Defaults to 3.
        max_logit_scale (float): Clamp of ``exp(logit_scale)`` in retrieval. Defaults to 100.
        num_global_queries (int): Trailing queries of ``pred_logits`` / ``pred_masks`` left out
            of the generic segmentation matching and losses: set 1 when they include
            X-Decoder's global query (the paper matches the first ``m - 1`` latent queries
            only). Defaults to 0.
    """

    def __init__(self,
                 matcher: dict = dict(type='PointSampledMatcher', num_points=12544),
                 grounding_matcher: dict = dict(
                     type='PointSampledMatcher',
                     num_points=12544,
                     match_costs=[
                         dict(type='QuerySoftmaxCost', weight=2.0),
                         dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                         dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)
                     ]),
                 loss_cls_weight: float = 2.0,
                 no_object_weight: float = 0.1,
                 loss_mask: dict = _sigmoid_ce(5.0),
                 loss_dice: dict = _dice(5.0),
                 loss_grd_ce_weight: float = 0.4,
                 loss_grd_mask: dict = _sigmoid_ce(1.0),
                 loss_grd_dice: dict = _dice(1.0),
                 loss_retrieval_weight: float = 2.0,
                 loss_retrieval_fine_weight: float = 0.5,
                 loss_caption_weight: float = 2.0,
                 num_points: Optional[int] = 12544,
                 oversample_ratio: float = 3.0,
                 importance_sample_ratio: float = 0.75,
                 num_semantic_predictions: int = 3,
                 max_logit_scale: float = 100.0,
                 num_global_queries: int = 0) -> None:
        super().__init__()
        if num_points is not None and num_points < 1:
            raise ValueError(f'num_points must be positive or None, got {num_points}')
        if oversample_ratio < 1 or not 0 <= importance_sample_ratio <= 1:
            raise ValueError('need oversample_ratio >= 1 and importance_sample_ratio in [0, 1], '
                             f'got {oversample_ratio} and {importance_sample_ratio}')
        if num_semantic_predictions < 1:
            raise ValueError('num_semantic_predictions must be >= 1, got '
                             f'{num_semantic_predictions}')
        self.matcher = TASK_UTILS.build(matcher)
        self.grounding_matcher = TASK_UTILS.build(grounding_matcher)
        self.loss_cls_weight = loss_cls_weight
        self.no_object_weight = no_object_weight
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_grd_ce_weight = loss_grd_ce_weight
        self.loss_grd_mask = MODELS.build(loss_grd_mask)
        self.loss_grd_dice = MODELS.build(loss_grd_dice)
        self.loss_retrieval_weight = loss_retrieval_weight
        self.loss_retrieval_fine_weight = loss_retrieval_fine_weight
        self.loss_caption_weight = loss_caption_weight
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.num_semantic_predictions = num_semantic_predictions
        self.max_logit_scale = max_logit_scale
        if num_global_queries < 0:
            raise ValueError(f'num_global_queries must be >= 0, got {num_global_queries}')
        self.num_global_queries = num_global_queries

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _target(targets: Sequence[dict], key: str, loss: str) -> List[Tensor]:
        missing = [i for i, t in enumerate(targets) if key not in t]
        if missing:
            raise KeyError(f'XDecoderCriterion: {loss} needs `{key}` in the targets of every '
                           f'image; images {missing} lack it')
        return [t[key] for t in targets]

    def _point_losses(self, mask_preds: Tensor, mask_targets: Tensor, num_masks: Tensor,
                      loss_bce: nn.Module, loss_dice: nn.Module) -> Tuple[Tensor, Tensor]:
        """BCE and Dice of matched masks on sampled points.

        Args:
            mask_preds (Tensor): ``(M, h, w)`` matched mask logits.
            mask_targets (Tensor): ``(M, H, W)`` their binary targets.
            num_masks (Tensor): Normaliser (matched masks over all processes).
        """
        if mask_preds.shape[0] == 0:
            zero = mask_preds.sum() * 0
            return zero, zero
        with torch.no_grad():
            if self.num_points is None:
                coords = grid_point_coords(*mask_preds.shape[-2:], device=mask_preds.device)
                coords = coords[None].expand(mask_preds.shape[0], -1, -1)
            else:
                coords = get_uncertain_point_coords_with_randomness(
                    mask_preds[:, None].float(), None, self.num_points, self.oversample_ratio,
                    self.importance_sample_ratio)
            point_targets = sample_points(mask_targets, coords)
        point_preds = sample_points(mask_preds.float(), coords)
        num_points = point_preds.shape[1]
        dice = loss_dice(point_preds, point_targets, avg_factor=num_masks)
        bce = loss_bce(point_preds.reshape(-1), point_targets.reshape(-1),
                       avg_factor=num_masks * num_points)
        return bce, dice

    @staticmethod
    def _num_total(count: int, device) -> Tensor:
        return reduce_mean(torch.tensor(float(count), device=device)).clamp(min=1.0)

    # ------------------------------------------------------------------ losses
    def mask_losses(self, output: dict, targets: Sequence[dict]) -> Dict[str, Tensor]:
        """Class, mask BCE and Dice losses of one prediction (generic segmentation)."""
        logits, masks = output['pred_logits'], output['pred_masks']
        if self.num_global_queries:
            num_latent = logits.shape[1] - self.num_global_queries
            logits, masks = logits[:, :num_latent], masks[:, :num_latent]
        gt_labels = self._target(targets, 'labels', 'generic segmentation')
        gt_masks = self._target(targets, 'masks', 'generic segmentation')
        batch, num_queries, num_cls = logits.shape
        background = num_cls - 1
        cls_targets = torch.full((batch, num_queries), background, dtype=torch.long,
                                 device=logits.device)
        matched_preds, matched_targets = [], []
        for b in range(batch):
            labels = gt_labels[b].to(logits.device).long()
            if labels.numel() and int(labels.max()) >= background:
                raise ValueError(f'XDecoderCriterion: image {b} has label {int(labels.max())} '
                                 f'but pred_logits has only {background} classes + background')
            query_inds, gt_inds = self.matcher(logits[b], masks[b], labels,
                                               gt_masks[b].to(logits.device))
            cls_targets[b, query_inds] = labels[gt_inds]
            matched_preds.append(masks[b, query_inds])
            matched_targets.append(gt_masks[b].to(masks.device)[gt_inds])
        class_weight = logits.new_ones(num_cls, dtype=torch.float32)
        class_weight[background] = self.no_object_weight
        flat_targets = cls_targets.flatten()
        loss_cls = cross_entropy(
            logits.flatten(0, 1).float(),
            flat_targets,
            class_weight=class_weight,
            reduction='mean',
            avg_factor=class_weight[flat_targets].sum())
        num_masks = self._num_total(sum(len(p) for p in matched_preds), logits.device)
        loss_mask, loss_dice = self._point_losses(
            torch.cat(matched_preds), torch.cat(matched_targets), num_masks, self.loss_mask,
            self.loss_dice)
        return dict(loss_cls=self.loss_cls_weight * loss_cls, loss_mask=loss_mask,
                    loss_dice=loss_dice)

    def grounding_losses(self, output: dict, targets: Sequence[dict]) -> Dict[str, Tensor]:
        """Referring losses: each phrase is matched to one query of the copied block."""
        logits, masks = output['pred_grd_logits'], output['pred_grd_masks']
        gt_masks = self._target(targets, 'grd_masks', 'grounding')
        ce_terms, matched_preds, matched_targets = [], [], []
        for b in range(logits.shape[0]):
            num_phrases = gt_masks[b].shape[0]
            if num_phrases > logits.shape[2]:
                raise ValueError(f'XDecoderCriterion: image {b} has {num_phrases} phrases but '
                                 f'pred_grd_logits has {logits.shape[2]} columns')
            if num_phrases == 0:
                continue
            phrase_logits = logits[b, :, :num_phrases]  # (Qg, P_b)
            phrase_ids = torch.arange(num_phrases, device=logits.device)
            query_inds, gt_inds = self.grounding_matcher(phrase_logits, masks[b], phrase_ids,
                                                         gt_masks[b].to(masks.device))
            # for each matched phrase: CE over the queries, target = its query
            ce_terms.append(torch.nn.functional.cross_entropy(
                phrase_logits[:, gt_inds].t().float(), query_inds, reduction='sum'))
            matched_preds.append(masks[b, query_inds])
            matched_targets.append(gt_masks[b].to(masks.device)[gt_inds])
        num_phrases = self._num_total(sum(len(p) for p in matched_preds), logits.device)
        if not matched_preds:
            zero = logits.sum() * 0 + masks.sum() * 0
            return dict(loss_grd_ce=zero, loss_grd_mask=zero, loss_grd_dice=zero)
        loss_ce = torch.stack(ce_terms).sum() / num_phrases
        loss_mask, loss_dice = self._point_losses(
            torch.cat(matched_preds), torch.cat(matched_targets), num_phrases,
            self.loss_grd_mask, self.loss_grd_dice)
        return dict(loss_grd_ce=self.loss_grd_ce_weight * loss_ce, loss_grd_mask=loss_mask,
                    loss_grd_dice=loss_dice)

    def caption_losses(self, output: dict, targets: Sequence[dict]) -> Dict[str, Tensor]:
        """Captioning next-token cross-entropy."""
        tokens = torch.stack(self._target(targets, 'caption_tokens', 'captioning'))
        token_mask = torch.stack(self._target(targets, 'caption_mask', 'captioning'))
        if 'pred_captions' in output:
            logits = output['pred_captions']
            loss = caption_loss(logits, tokens.to(logits.device).long(),
                                token_mask.to(logits.device))
        else:
            embeds = output['query_text_embeds']
            loss = tied_caption_loss(embeds, output['caption_weight'],
                                     tokens.to(embeds.device).long(),
                                     token_mask.to(embeds.device))
        return dict(loss_caption=self.loss_caption_weight * loss)

    def retrieval_losses(self, output: dict, logit_scale: Tensor) -> Dict[str, Tensor]:
        """Image-text contrastive loss of the global query, plus the release's query-token
        term (``loss_retrieval_fine_weight``) when the token embeddings are given."""
        loss = image_text_contrastive_loss(output['image_embeds'], output['text_embeds'],
                                           logit_scale, self.max_logit_scale)
        fine = ('class_embeds', 'text_token_embeds', 'text_token_mask')
        if self.loss_retrieval_fine_weight and all(k in output for k in fine):
            loss = loss + self.loss_retrieval_fine_weight * query_token_contrastive_loss(
                output['class_embeds'][:, :-1], output['text_token_embeds'],
                output['text_token_mask'], logit_scale, self.max_logit_scale)
        return dict(loss_retrieval=self.loss_retrieval_weight * loss)

    def forward(self, outputs: Sequence[dict], targets: Sequence[dict]) -> Dict[str, Tensor]:
        """Compute every loss the predictions and targets call for.

        Args:
            outputs (Sequence[dict]): ``L + 1`` predictions, the last one final (see the
                module docstring for the keys).
            targets (Sequence[dict]): One dict per image.

        Returns:
            dict[str, Tensor]: ``loss_*`` of the final prediction and ``d{i}.loss_*`` of the
            earlier ones.
        """
        if isinstance(outputs, dict):
            outputs = [outputs]
        if not outputs:
            raise ValueError('XDecoderCriterion got no prediction')
        num_pred = len(outputs)
        logit_scale = None
        for output in reversed(outputs):
            if 'logit_scale' in output:
                logit_scale = output['logit_scale']
                break
        losses: Dict[str, Tensor] = {}
        for i, output in enumerate(outputs):
            prefix = '' if i == num_pred - 1 else f'd{i}.'
            semantic = i >= num_pred - self.num_semantic_predictions
            parts = {}
            if 'pred_logits' in output and 'pred_masks' in output:
                parts.update(self.mask_losses(output, targets))
            if semantic and 'pred_grd_logits' in output and 'pred_grd_masks' in output:
                parts.update(self.grounding_losses(output, targets))
            if semantic and ('pred_captions' in output or 'caption_weight' in output):
                parts.update(self.caption_losses(output, targets))
            if semantic and 'image_embeds' in output and 'text_embeds' in output:
                if logit_scale is None:
                    raise KeyError('XDecoderCriterion: retrieval needs `logit_scale` in the '
                                   'predictions')
                parts.update(self.retrieval_losses(output, logit_scale))
            losses.update({prefix + k: v for k, v in parts.items()})
        return losses
