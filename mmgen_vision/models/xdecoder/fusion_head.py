# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder post-processing: per-image predictions -> data-sample fields (the role of mmdet's
``MaskFormerFusionHead`` in Mask2Former, which it uses for instances and panoptic
segmentation; open-vocabulary semantic and referring segmentation are X-Decoder's own)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.seg_heads import MaskFormerFusionHead
from mmdet.structures.mask import mask2bbox
from mmengine.model import BaseModule
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmgen_vision.registry import MODELS

#: Post-processing options (:class:`XDecoderFusionHead`) and captioning options
#: (``XDecoder.generate_captions``) of ``XDecoder.test_cfg``.
DEFAULT_TEST_CFG = dict(
    mask_thr=0.5, use_thr_for_mc=True, ignore_index=255, max_per_image=100,
    object_mask_thr=0.8, overlap_thr=0.8, caption_steps=50, beam_size=1,
    length_penalty=0., semseg_with_global_query=True)


def resize_to_original(masks: Tensor, meta: dict) -> Tensor:
    """Mask logits ``(N, h, w)`` of the padded batch -> ``(N, H_ori, W_ori)``.

    Bicubic (antialiased) to ``batch_input_shape``, crop to ``img_shape``, bicubic to
    ``ori_shape`` (the release's post-processing).
    """
    pad_h, pad_w = meta.get('batch_input_shape', meta['img_shape'])[:2]
    img_h, img_w = meta['img_shape'][:2]
    ori_h, ori_w = meta.get('ori_shape', meta['img_shape'])[:2]
    if masks.shape[0] == 0:
        return masks.new_zeros(0, ori_h, ori_w)
    # float: antialiased bicubic has no bfloat16 CPU kernel (autocast, --amp)
    x = F.interpolate(masks[None].float(), size=(pad_h, pad_w), mode='bicubic',
                      align_corners=False, antialias=True)[:, :, :img_h, :img_w]
    if (img_h, img_w) != (ori_h, ori_w):
        x = F.interpolate(x, size=(ori_h, ori_w), mode='bicubic', align_corners=False,
                          antialias=True)
    return x[0]


@MODELS.register_module()
class XDecoderFusionHead(BaseModule):
    """Writes each task's result into the data samples (no parameters).

    - ``semantic``: ``prob[c] = sum_q softmax(logits_q)[c] * sigmoid(mask_q)`` (background
      column dropped after the softmax) -> ``seg_logits`` and ``pred_sem_seg`` (argmax,
      ``ignore_index`` where no class exceeds ``mask_thr`` when ``use_thr_for_mc``);
    - ``instance``: mmdet ``MaskFormerFusionHead.instance_postprocess`` (top
      ``max_per_image`` (query, class) pairs, class probability x mean mask probability
      inside the mask) -> ``pred_instances``;
    - ``panoptic``: the three of them; the merge is mmdet's ``panoptic_postprocess`` with
      ``filter_low_score`` (the release's rule: a segment is the query's arg-max pixels where
      its probability >= 0.5, dropped when its arg-max area is below ``overlap_thr`` of its
      mask) -> ``pred_panoptic_seg`` (``label + id * INSTANCE_OFFSET`` for things, ``label``
      for stuff, ``num_classes`` for void);
    - ``referring``: per phrase the grounding query with the highest logit -> ``pred_instances``
      (one mask per phrase) and ``pred_sem_seg`` (1 = referred by the first phrase).

    Args:
        test_cfg (dict, optional): Options, see :data:`DEFAULT_TEST_CFG` (the model passes
            its own ``test_cfg`` dict: changes to the model's show here).
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, test_cfg: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.test_cfg = test_cfg if test_cfg is not None else dict(DEFAULT_TEST_CFG)

    # ------------------------------------------------------- generic segmentation
    def predict(self, logits: Tensor, masks: Tensor, data_samples: list, task: str,
                class_names: Sequence[str], thing_classes: Sequence[str]) -> list:
        """Generic segmentation of a batch.

        Args:
            logits (Tensor): ``(B, Q, K + 1)`` class logits (background last).
            masks (Tensor): ``(B, Q, h, w)`` mask logits of the padded batch.
            data_samples (list): One per image; results are written into them.
            task (str): ``'semantic'``, ``'instance'`` or ``'panoptic'``.
            class_names (Sequence[str]): The ``K`` classes.
            thing_classes (Sequence[str]): Thing classes of panoptic segmentation.

        Returns:
            list: ``data_samples``.
        """
        for b, sample in enumerate(data_samples):
            mask_pred = resize_to_original(masks[b], sample.metainfo)
            if task in ('semantic', 'panoptic'):
                self.semantic(logits[b], mask_pred, sample)
                self.alias_gt_sem_seg(sample)
            if task in ('instance', 'panoptic'):
                self.instance(logits[b, :-1], mask_pred[:-1], sample)
            if task == 'panoptic':
                self.panoptic(logits[b, :-1], mask_pred[:-1], sample, class_names,
                              thing_classes)
        return data_samples

    @staticmethod
    def alias_gt_sem_seg(sample) -> None:
        """mmdet packs the semantic ground truth as ``gt_sem_seg.sem_seg``, mmseg's IoUMetric
        reads ``gt_sem_seg.data``: give it both names so the stock metrics of both run on the
        same predictions."""
        gt = sample.get('gt_sem_seg')
        if gt is not None and 'sem_seg' in gt and 'data' not in gt:
            gt.set_data(dict(data=gt.sem_seg))

    def semantic(self, logits: Tensor, mask_pred: Tensor, sample) -> None:
        """``logits (Q, K + 1)`` and resized mask logits ``(Q, H, W)`` (the global query
        last) -> ``seg_logits`` ``(K, H, W)`` and ``pred_sem_seg`` ``(1, H, W)``."""
        cfg = self.test_cfg
        if not cfg['semseg_with_global_query']:
            logits, mask_pred = logits[:-1], mask_pred[:-1]
        prob = torch.einsum('qc,qhw->chw', logits.softmax(-1)[:, :-1], mask_pred.sigmoid())
        label = prob.argmax(0)
        if cfg['use_thr_for_mc']:
            label[prob.max(0).values <= cfg['mask_thr']] = cfg['ignore_index']
        sample.seg_logits = PixelData(data=prob)
        sample.pred_sem_seg = PixelData(data=label[None])

    def _mmdet_head(self, num_things: int, num_stuff: int, max_per_image: int = 1):
        cfg = self.test_cfg
        return MaskFormerFusionHead(
            num_things_classes=num_things, num_stuff_classes=num_stuff,
            test_cfg=dict(max_per_image=max_per_image, object_mask_thr=cfg['object_mask_thr'],
                          iou_thr=cfg['overlap_thr'], filter_low_score=True))

    def instance(self, logits: Tensor, mask_pred: Tensor, sample) -> None:
        """``logits (Q, K + 1)`` and resized mask logits ``(Q, H, W)`` of the object queries
        -> ``pred_instances`` (masks, labels over all ``K`` classes, scores, bboxes)."""
        num_classes = logits.shape[-1] - 1
        k = min(self.test_cfg['max_per_image'], logits.shape[0] * num_classes)
        sample.pred_instances = self._mmdet_head(num_classes, 0, k).instance_postprocess(
            logits, mask_pred)

    def panoptic(self, logits: Tensor, mask_pred: Tensor, sample, class_names: Sequence[str],
                 thing_classes: Sequence[str]) -> None:
        """``logits (Q, K + 1)`` and resized mask logits ``(Q, H, W)`` of the object queries
        -> ``pred_panoptic_seg``. Things are the ``thing_classes`` metainfo, else
        ``thing_classes`` (the classes are put things-first for mmdet and mapped back)."""
        things = set(sample.metainfo.get('thing_classes') or thing_classes)
        thing_ids = [i for i, n in enumerate(class_names) if n in things]
        order = thing_ids + [i for i, n in enumerate(class_names) if n not in things]
        num_classes = len(class_names)
        index = torch.tensor(order + [num_classes], device=logits.device)
        head = self._mmdet_head(len(thing_ids), num_classes - len(thing_ids))
        seg = head.panoptic_postprocess(logits[:, index], mask_pred).sem_seg.long()
        if order != sorted(order):  # labels back to the caller's class order
            label, instance = seg % INSTANCE_OFFSET, seg // INSTANCE_OFFSET
            void = seg == num_classes
            seg = torch.where(void, seg, index[label.clamp(max=num_classes)] +
                              instance * INSTANCE_OFFSET)
        sample.pred_panoptic_seg = PixelData(sem_seg=seg)

    # ---------------------------------------------------------------- referring
    def referring(self, grd_logits: Tensor, grd_masks: Tensor, sample) -> Dict[str, Tensor]:
        """One image's referring result.

        Args:
            grd_logits (Tensor): ``(Qg, P)`` grounding-query x phrase logits.
            grd_masks (Tensor): ``(Qg, h, w)`` grounding mask logits (padded batch).
            sample: Its data sample (``img_shape``, ``ori_shape``, ``batch_input_shape``).

        Returns:
            dict: per phrase: ``query`` (the matched grounding query), ``pred_logits``
            ``(P, P)``, ``low_res`` ``(P, h, w)``, ``mask_pred`` ``(P, H, W)`` (logits at the
            original size), ``masks`` (``sigmoid > mask_thr``) and ``scores``
            (max softmax of the logits x mean mask probability inside ``mask_pred > 0``).
        """
        matched = grd_logits.argmax(dim=0)
        pred_logits = grd_logits[matched]
        low_res = grd_masks[matched]
        mask_pred = resize_to_original(low_res, sample.metainfo)
        fg = (mask_pred > 0).float()
        mask_score = (mask_pred.sigmoid() * fg).flatten(1).sum(1) / (fg.flatten(1).sum(1) + 1e-6)
        return dict(mask_pred=mask_pred, masks=mask_pred.sigmoid() > self.test_cfg['mask_thr'],
                    pred_logits=pred_logits, query=matched, low_res=low_res,
                    scores=pred_logits.softmax(-1).max(-1).values * mask_score)

    @staticmethod
    def write_referring(sample, result: Dict[str, Tensor]) -> None:
        """:meth:`referring` result -> ``pred_instances`` (label = phrase index) and
        ``pred_sem_seg``."""
        masks = result['masks']
        inst = InstanceData()
        inst.masks = masks
        inst.labels = torch.arange(len(masks), device=masks.device)
        inst.scores = result['scores']
        inst.bboxes = mask2bbox(masks)
        sample.pred_instances = inst
        sample.pred_sem_seg = PixelData(data=masks[:1].long())

    def predict_referring(self, grd_logits: Tensor, grd_masks: Tensor, data_samples: list,
                          num_phrases: List[int]) -> List[Dict[str, Tensor]]:
        """Batch version of :meth:`referring` (``grd_logits (B, Qg, P_max)``, the first
        ``num_phrases[b]`` columns valid); returns the per-image results without writing."""
        return [self.referring(grd_logits[b, :, :n], grd_masks[b], sample)
                for b, (sample, n) in enumerate(zip(data_samples, num_phrases))]
