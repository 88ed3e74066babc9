# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID panoptic / instance / semantic segmentation on mmdet data samples, trained single-task
or multi-task (everything shared but the per-task linear layers)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.detectors import BaseDetector, MaskFormer
from mmdet.models.seg_heads import MaskFormerFusionHead
from mmdet.models.utils import preprocess_panoptic_gt
from mmengine.structures import InstanceData, PixelData

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.deprecation import canonical_task
from .finetune_base import GLIDFinetuneModel
from .segmentor import crop_and_resize

TASKS = ('panoptic', 'instance', 'semantic')


@MODELS.register_module()
class GLIDUniversalSegmentor(GLIDFinetuneModel, BaseDetector):
    """Segmentation on COCO-panoptic-style data with one ``GLIDSegHead`` (one linear layer) per
    task on top of a shared encoder-decoder and shared queries.

    Targets per task, from an mmdet sample's ``gt_instances`` (things) and ``gt_sem_seg``
    (thing and stuff classes, 255 ignored):

    - ``panoptic``: every thing instance plus one mask per stuff class
      (mmdet's ``preprocess_panoptic_gt``), ``num_things + num_stuff`` classes;
    - ``instance``: the thing instances only, ``num_things`` classes;
    - ``semantic``: one mask per class present in ``gt_sem_seg``, all classes.

    Inference decodes the ``test_task`` head(s) with mmdet's ``MaskFormerFusionHead``
    (``pred_panoptic_seg`` for ``mmdet.CocoPanopticMetric``, ``pred_instances`` with masks for
    ``mmdet.CocoMetric(segm)``) or, for ``semantic``, Mask2Former's semantic inference
    (``pred_sem_seg.sem_seg``, mmdet's layout, for ``mmdet.SemSegMetric``). The three write
    different fields, so a multi-task model can decode every head in one pass and be scored by
    the three metrics at once (``test_task=('panoptic', 'instance', 'semantic')`` with a list
    of evaluators).

    An mmdet ``BaseDetector`` (mode dispatch) whose panoptic / instance results are packed by
    mmdet ``MaskFormer.add_pred_to_datasample``; mmdet's ``MaskFormer`` itself builds a
    backbone, a neck and a pixel decoder in its head, which GLID's shared encoder-decoder is
    not.

    Args:
        seg_head (dict): ``GLIDSegHead`` config shared by the tasks (``num_classes``,
            ``embed_dims`` and, when its ``loss_cls`` has none, the ``class_weight`` with
            ``no_object_weight`` last are filled in per task).
        tasks (Sequence[str]): The tasks, each getting its own linear layer; several =
            multi-task fine-tuning. Defaults to ``('panoptic', )``.
        num_things_classes (int): Thing classes (the first labels).
        num_stuff_classes (int): Stuff classes (the following labels).
        test_task (str | Sequence[str], optional): The task(s) decoded at test time (among
            ``tasks``; the first by default); each task's own head fills its own output.
        fusion_cfg (dict, optional): ``MaskFormerFusionHead`` test config
            (``object_mask_thr``, ``iou_thr``, ``max_per_image``, ``filter_low_score``).
        loss_weights (dict, optional): Task name -> weight of its losses. Defaults to 1 each.
        no_object_weight (float): Classification weight of "no object". Defaults to 0.1.
        **kwargs: ``GLIDFinetuneModel`` arguments.
    """

    def __init__(self, seg_head: dict, num_things_classes: int, num_stuff_classes: int,
                 tasks: Sequence[str] = ('panoptic', ), test_task: Optional[str] = None,
                 fusion_cfg: Optional[dict] = None, loss_weights: Optional[dict] = None,
                 no_object_weight: float = 0.1, **kwargs) -> None:
        super().__init__(**kwargs)
        owner = 'GLIDUniversalSegmentor task'
        tasks = [canonical_task(task, owner=owner) for task in tasks]
        if isinstance(test_task, str):
            test_task = canonical_task(test_task, owner=owner)
        elif test_task is not None:
            test_task = [canonical_task(task, owner=owner) for task in test_task]
        if not tasks or set(tasks) - set(TASKS) or len(set(tasks)) != len(tasks):
            raise KeyError(f'GLIDUniversalSegmentor tasks must be distinct names among '
                           f'{TASKS}, got {tasks}')
        test_task = test_task or tasks[0]
        test_tasks = [test_task] if isinstance(test_task, str) else list(test_task)
        if not test_tasks or set(test_tasks) - set(tasks) or len(set(test_tasks)) != len(
                test_tasks):
            raise KeyError(f'test_task "{test_task}" must be distinct names among the tasks '
                           f'{tasks}')
        self.num_things = num_things_classes
        self.num_stuff = num_stuff_classes
        self.test_task = test_task
        self.test_tasks = test_tasks
        self.loss_weights = dict(loss_weights or {})
        heads = dict()
        for task in tasks:
            num_classes = self.num_classes_of(task)
            loss_cls = dict(seg_head['loss_cls'])
            loss_cls.setdefault('class_weight', [1.0] * num_classes + [no_object_weight])
            heads[task] = MODELS.build(dict(seg_head, embed_dims=self.embed_dims,
                                            num_classes=num_classes, loss_cls=loss_cls))
        self.heads = nn.ModuleDict(heads)
        fusion = dict(object_mask_thr=0.8, iou_thr=0.8, max_per_image=100,
                      filter_low_score=True)
        fusion.update(fusion_cfg or {})
        self.fusion_cfg = fusion

    add_pred_to_datasample = MaskFormer.add_pred_to_datasample

    def num_classes_of(self, task: str) -> int:
        return self.num_things if task == 'instance' else self.num_things + self.num_stuff

    # targets -------------------------------------------------------------------------------
    @torch.compiler.disable  # per-image targets of varying number: eager under compile
    def targets(self, data_samples, task: str, size) -> List[InstanceData]:
        """Per image ``labels`` (G,) and binary ``masks`` (G, H, W) of ``task`` at ``size``."""
        out = []
        for sample in data_samples:
            gt = sample.gt_instances
            sem = sample.gt_sem_seg.sem_seg if 'gt_sem_seg' in sample else None
            if task == 'panoptic':
                if sem is None:
                    raise KeyError('panoptic targets need gt_sem_seg (use '
                                   'mmdet.LoadPanopticAnnotations with with_seg=True)')
                labels, masks = preprocess_panoptic_gt(gt.labels, gt.masks, sem,
                                                       self.num_things, self.num_stuff)
            elif task == 'instance':
                labels = gt.labels
                masks = gt.masks.to_tensor(dtype=torch.bool, device=gt.labels.device)
            else:
                if sem is None:
                    raise KeyError('semantic targets need gt_sem_seg')
                sem = sem[0]
                labels = torch.unique(sem)
                labels = labels[labels < self.num_things + self.num_stuff].long()
                masks = sem[None] == labels[:, None, None]
            masks = masks.bool()
            if tuple(masks.shape[-2:]) != tuple(size):
                masks = F.pad(masks, (0, size[1] - masks.shape[-1], 0,
                                      size[0] - masks.shape[-2]))
            out.append(InstanceData(labels=labels.long(), masks=masks))
        return out

    # BaseModel API -------------------------------------------------------------------------
    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        """Sum of every task's losses, prefixed ``<task>.`` when there are several tasks."""
        # eager targets first; then the compiled network
        gts = {task: self.targets(data_samples, task, inputs.shape[-2:]) for task in self.heads}
        hs, feats = self.decode(inputs)
        losses = dict()
        for task, head in self.heads.items():
            weight = self.loss_weights.get(task, 1.)
            out = head.loss(hs, feats[0], gts[task])
            prefix = f'{task}.' if len(self.heads) > 1 else ''
            losses.update({prefix + k: v * weight for k, v in out.items()})
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Decode every task of ``test_task`` with its own head into ``data_samples``."""
        hs, feats = self.decode(inputs)
        for task in self.test_tasks:
            self._predict_task(task, hs, feats[0], inputs.shape[-2:], data_samples)
        return data_samples

    def _predict_task(self, task: str, hs: torch.Tensor, f_b: torch.Tensor, size,
                      data_samples: list) -> None:
        head = self.heads[task]
        cls_logits, mask_logits = head(hs[-1:], f_b)
        cls_logits, mask_logits = cls_logits[0], mask_logits[0]
        mask_logits = F.interpolate(mask_logits, size=size, mode='bilinear',
                                    align_corners=False)
        if task == 'semantic':
            logits = head.semantic_logits(cls_logits, mask_logits)
            for i, sample in enumerate(data_samples):
                seg = crop_and_resize(logits[i], sample.metainfo)
                sample.pred_sem_seg = PixelData(sem_seg=seg.argmax(0, keepdim=True))
            return
        stuff = self.num_stuff if task == 'panoptic' else 0
        # the instance top-k cannot exceed queries x classes
        max_per_image = min(self.fusion_cfg['max_per_image'],
                            self.num_queries * (self.num_things + stuff))
        fusion = MaskFormerFusionHead(
            num_things_classes=self.num_things, num_stuff_classes=stuff,
            test_cfg=dict(self.fusion_cfg, max_per_image=max_per_image,
                          panoptic_on=task == 'panoptic', instance_on=task == 'instance',
                          semantic_on=False))
        results = fusion.predict(cls_logits, mask_logits, data_samples, rescale=True)
        self.add_pred_to_datasample(data_samples, results)
