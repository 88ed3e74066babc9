# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A semantic map as per-class masks, for mask-classification models trained on mask folders."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from mmgen_vision.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SemSegToInstances(BaseTransform):
    """Turn ``gt_seg_map`` into one instance per class present (mask, label and box).

    Mask-classification models (X-Decoder, Mask2Former-style heads) learn from
    ``gt_instances.masks`` / ``labels``; an mmseg semantic map (``mmseg.LoadAnnotations`` on a
    ``SegFolderDataset``) has neither. Put this transform after the geometric transforms and
    before the packer (``PackXDecoderInputs(task='semantic')``): every class ``c`` present in the
    map becomes the mask ``seg == c`` with label ``c`` and its bounding box; ``ignore_index``
    pixels belong to no mask. ``gt_seg_map`` itself is kept (packed as ``gt_sem_seg``).

    Required keys: ``gt_seg_map``. Added keys: ``gt_masks`` (``BitmapMasks``),
    ``gt_bboxes`` (``HorizontalBoxes``), ``gt_bboxes_labels``, ``gt_ignore_flags``.

    Args:
        ignore_index (int): Unlabelled value. Defaults to 255.
    """

    def __init__(self, ignore_index: int = 255) -> None:
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if results.get('gt_seg_map') is None:
            raise KeyError(f'SemSegToInstances needs gt_seg_map in {results.get("img_path")}: '
                           "put mmseg.LoadAnnotations before it")
        seg = np.asarray(results['gt_seg_map'])
        h, w = seg.shape[:2]
        labels = [int(c) for c in np.unique(seg) if c != self.ignore_index]
        masks = np.stack([seg == c for c in labels]).astype(np.uint8) if labels else np.zeros(
            (0, h, w), np.uint8)
        boxes = np.zeros((len(labels), 4), np.float32)
        for i, mask in enumerate(masks):
            ys, xs = np.nonzero(mask)
            boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        results['gt_masks'] = BitmapMasks(masks, h, w)
        results['gt_bboxes'] = HorizontalBoxes(boxes)
        results['gt_bboxes_labels'] = np.asarray(labels, dtype=np.int64)
        results['gt_ignore_flags'] = np.zeros(len(labels), dtype=bool)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(ignore_index={self.ignore_index})'
