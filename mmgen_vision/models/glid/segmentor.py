# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GLID semantic segmentation fine-tuning (mmseg data samples, ``mmseg.IoUMetric``)."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmseg.models.segmentors import BaseSegmentor

from mmgen_vision.registry import MODELS
from .finetune_base import GLIDFinetuneModel


def crop_and_resize(maps: torch.Tensor, meta: dict, mode: str = 'bilinear') -> torch.Tensor:
    """Maps (C, H_pad, W_pad) over the padded input -> (C, *ori_shape): drop the bottom/right
    padding (``img_shape``) and resize to the original image."""
    h, w = meta['img_shape'][:2]
    maps = maps[:, :h, :w]
    kwargs = dict(align_corners=False) if mode == 'bilinear' else dict()
    return F.interpolate(maps[None], size=tuple(meta['ori_shape'][:2]), mode=mode, **kwargs)[0]


@MODELS.register_module()
class GLIDSegmentor(GLIDFinetuneModel, BaseSegmentor):
    """Semantic segmentation with GLID: queries ``CLS + e_i`` -> decoder -> linear layer
    ``[f_s, class]`` -> ``sigmoid(f_s . f_b)``.

    An mmseg ``BaseSegmentor``: its ``forward`` dispatches the modes and its
    ``postprocess_result`` packs ``seg_logits`` / ``pred_sem_seg`` (padding removed, resized to
    ``ori_shape``).

    Args:
        seg_head (dict): ``GLIDSegHead`` config (its ``embed_dims`` is filled in).
        ignore_index (int): Label ignored in the ground truth. Defaults to 255.
        **kwargs: ``GLIDFinetuneModel`` arguments (``encoder_decoder``, ``num_queries``,
            ``pretrained``, ``data_preprocessor``).
    """

    def __init__(self, seg_head: dict, ignore_index: int = 255, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seg_head = MODELS.build(dict(seg_head, embed_dims=self.embed_dims))
        self.num_classes = self.seg_head.num_classes
        self.ignore_index = ignore_index
        self.align_corners = False  # of the resize to the original image

    @torch.compiler.disable  # per-image class sets of varying size: eager under compile
    def semantic_targets(self, data_samples) -> List[InstanceData]:
        """One binary mask (G, H, W) per class present in each ``gt_sem_seg``."""
        gts = []
        for sample in data_samples:
            seg = sample.gt_sem_seg.data[0]
            classes = torch.unique(seg)
            classes = classes[(classes != self.ignore_index) & (classes < self.num_classes)]
            masks = seg[None] == classes[:, None, None]
            gts.append(InstanceData(labels=classes.long(), masks=masks))
        return gts

    def loss(self, inputs: torch.Tensor, data_samples) -> Dict[str, torch.Tensor]:
        gts = self.semantic_targets(data_samples)  # eager; then the compiled network
        hs, feats = self.decode(inputs)
        return self.seg_head.loss(hs, feats[0], gts)

    def encode_decode(self, inputs: torch.Tensor, batch_img_metas: Optional[List[dict]] = None
                      ) -> torch.Tensor:
        """Images (B, 3, H, W) -> semantic logits (B, K, H, W) at the input size."""
        hs, feats = self.decode(inputs)
        cls_logits, mask_logits = self.seg_head(hs[-1:], feats[0])
        logits = self.seg_head.semantic_logits(cls_logits[0], mask_logits[0])
        return F.interpolate(logits, size=inputs.shape[-2:], mode='bilinear',
                             align_corners=False)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[list] = None) -> list:
        """Per image ``seg_logits`` (K, H, W) and ``pred_sem_seg`` (1, H, W) at the original
        size."""
        return self.postprocess_result(self.encode_decode(inputs), data_samples)
