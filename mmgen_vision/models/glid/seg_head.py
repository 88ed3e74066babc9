# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID segmentation answers (Mask2Former-style): per query ``[mask embedding f_s, class]``
from one linear layer, ``mask = sigmoid(f_s . f_b)``; Hungarian matching, classification,
mask BCE and dice losses come from mmdet."""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import InstanceData

from mmgen_vision.registry import MODELS, TASK_UTILS


def masks_to_feature_size(masks: torch.Tensor, size) -> torch.Tensor:
    """Binary masks (G, H, W) -> soft masks (G, h, w): the fraction of each f_b cell covered."""
    if masks.numel() == 0:
        return masks.new_zeros((0, *size), dtype=torch.float32)
    return F.adaptive_avg_pool2d(masks[None].float(), tuple(size))[0]


@MODELS.register_module()
class GLIDSegHead(BaseModule):
    """The task-specific linear layer of segmentation and its training criterion.

    Args:
        embed_dims (int): Width C of the decoder answers and of f_b.
        num_classes (int): Number K of classes (the linear layer predicts K + 1 logits, the
            last being "no object").
        assigner (dict): ``mmdet.HungarianAssigner`` config with classification / mask BCE /
            dice match costs.
        loss_cls (dict): ``mmdet.CrossEntropyLoss`` config (softmax; no-object down-weighted
            through ``class_weight``).
        loss_mask (dict): ``mmdet.CrossEntropyLoss`` config with ``use_sigmoid=True``.
        loss_dice (dict): ``mmdet.DiceLoss`` config.
        deep_supervision (bool): Apply the losses to every decoder layer. Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, embed_dims: int, num_classes: int, assigner: dict, loss_cls: dict,
                 loss_mask: dict, loss_dice: dict, deep_supervision: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.num_classes = num_classes
        self.fc = nn.Linear(embed_dims, embed_dims + num_classes + 1)
        self.assigner = TASK_UTILS.build(assigner)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.deep_supervision = deep_supervision
        weight = loss_cls.get('class_weight')
        self.class_weight = (torch.ones(num_classes + 1) if weight is None
                             else torch.as_tensor(weight, dtype=torch.float32))

    def forward(self, hs: torch.Tensor, f_b: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Decode the answers.

        Args:
            hs (Tensor): Decoder answers (L, B, Q, C).
            f_b (Tensor): 1/4-scale feature (B, C, h, w).

        Returns:
            tuple: class logits (L, B, Q, K + 1) and mask logits (L, B, Q, h, w) (the mask is
            their sigmoid).
        """
        out = self.fc(hs)
        mask_embed, cls_logits = out[..., :self.embed_dims], out[..., self.embed_dims:]
        mask_logits = torch.einsum('lbqc,bchw->lbqhw', mask_embed, f_b)
        return cls_logits, mask_logits

    @torch.compiler.disable  # matching, per-image targets of varying number: eager
    def loss_single(self, cls_logits: torch.Tensor, mask_logits: torch.Tensor,
                    gts: List[InstanceData]) -> Dict[str, torch.Tensor]:
        """Losses of one decoder layer.

        Args:
            cls_logits (Tensor): (B, Q, K + 1).
            mask_logits (Tensor): (B, Q, h, w).
            gts (list[InstanceData]): Per image ``labels`` (G,) and soft ``masks`` (G, h, w).
        """
        b, q = cls_logits.shape[:2]
        labels = cls_logits.new_full((b, q), self.num_classes, dtype=torch.long)
        pred_masks, gt_masks = [], []
        for i, gt in enumerate(gts):
            pred = InstanceData(scores=cls_logits[i].detach(), masks=mask_logits[i].detach())
            result = self.assigner.assign(pred, gt, img_meta=None)
            pos = torch.nonzero(result.gt_inds > 0).squeeze(1)
            matched = result.gt_inds[pos] - 1
            labels[i, pos] = gt.labels[matched]
            pred_masks.append(mask_logits[i, pos])
            gt_masks.append(gt.masks[matched])
        weight = self.class_weight.to(cls_logits.device)
        loss_cls = self.loss_cls(cls_logits.flatten(0, 1), labels.flatten(),
                                 avg_factor=weight[labels.flatten()].sum())
        pred_masks = torch.cat(pred_masks)
        gt_masks = torch.cat(gt_masks)
        num_masks = max(len(gt_masks), 1)
        if len(pred_masks) == 0:
            zero = mask_logits.sum() * 0.
            return dict(loss_cls=loss_cls, loss_mask=zero, loss_dice=zero)
        loss_dice = self.loss_dice(pred_masks.flatten(1), gt_masks.flatten(1),
                                   avg_factor=num_masks)
        loss_mask = self.loss_mask(pred_masks.flatten(), gt_masks.flatten(),
                                   avg_factor=gt_masks.numel())
        return dict(loss_cls=loss_cls, loss_mask=loss_mask, loss_dice=loss_dice)

    def loss(self, hs: torch.Tensor, f_b: torch.Tensor,
             gts: List[InstanceData]) -> Dict[str, torch.Tensor]:
        """Losses of the last layer (``loss_*``) and of the earlier ones (``d{i}.loss_*``).

        ``gts`` hold binary ``masks`` (G, H, W) at input resolution; they are pooled to f_b.
        """
        cls_logits, mask_logits = self(hs, f_b)
        small = self.feature_size_targets(gts, f_b.shape[-2:])
        layers = range(len(hs)) if self.deep_supervision else [len(hs) - 1]
        losses = dict()
        for lvl in layers:
            out = self.loss_single(cls_logits[lvl], mask_logits[lvl], small)
            prefix = '' if lvl == len(hs) - 1 else f'd{lvl}.'
            losses.update({prefix + k: v for k, v in out.items()})
        return losses

    @staticmethod
    @torch.compiler.disable  # per-image targets of varying number: eager under compile
    def feature_size_targets(gts: List[InstanceData], size) -> List[InstanceData]:
        """``gts`` with their ``masks`` (G, H, W) pooled to ``size`` (h, w)."""
        return [InstanceData(labels=g.labels, masks=masks_to_feature_size(g.masks, size))
                for g in gts]

    @staticmethod
    def semantic_logits(cls_logits: torch.Tensor, mask_logits: torch.Tensor) -> torch.Tensor:
        """Mask2Former's semantic inference: (B, Q, K + 1), (B, Q, h, w) -> (B, K, h, w),
        ``sum_q softmax(cls_q)[k] * sigmoid(mask_q)``."""
        probs = cls_logits.softmax(-1)[..., :-1]
        return torch.einsum('bqk,bqhw->bkhw', probs, mask_logits.sigmoid())
