# Copyright (c) mmgen_vision contributors. All rights reserved.
import os.path as osp
from typing import List, Optional

import mmengine
import numpy as np
from mmdet.datasets import RefCocoDataset

from mmgen_vision.registry import DATASETS
from mmgen_vision.utils.safe_load import safe_pickle_load
from .transforms.referring import decode_coco_mask


def center_square_fraction(mask: np.ndarray) -> float:
    """Fraction of a mask's pixels inside the image's centred square crop (side = short side)."""
    height, width = mask.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    total = int(mask.sum())
    if total == 0:
        return 0.0
    return float(mask[top:top + side, left:left + side].sum()) / total


@DATASETS.register_module()
class RefCocoSegDataset(RefCocoDataset):
    """RefCOCO / RefCOCO+ / RefCOCOg for referring segmentation, one sample per expression.

    The stock ``mmdet.RefCocoDataset`` yields one sample per image with all of its expressions;
    referring segmentation is evaluated per (image, expression) pair. This dataset reads the
    same files (``instances.json`` and the ``refs(<split_by>).p`` pickle) and lists, in the order
    of the refs and of their sentences, one sample per expression of the requested ``split``:

    - ``img_path``, ``img_id``, ``height``, ``width``: the COCO image;
    - ``text`` (str): the expression (``sentences[i]['raw']``, lower-cased with
      ``lower_case``) and ``sent_id``, ``ref_id``, ``ann_id``, ``category_id``;
    - ``instances``: one entry for the referred object, ``dict(mask=<COCO segmentation>,
      bbox=[x1, y1, x2, y2], bbox_label=0, ignore_flag=0)`` (the mmdet convention), decoded to
      a binary ``gt_seg_map`` by ``LoadReferringAnnotations``.

    Args:
        data_root (str): Root of ``ann_file``, ``split_file`` and ``data_prefix``.
        ann_file (str): COCO instances file, e.g. ``'refcoco/instances.json'``.
        split_file (str): Refs pickle, e.g. ``'refcoco/refs(unc).p'``.
        data_prefix (dict): ``dict(img_path='train2014/')``.
        split (str): Split of the refs, e.g. ``'val'``, ``'testA'``, ``'testB'``.
            Defaults to ``'val'``.
        lower_case (bool): Lower-case the expressions (as ``mmdet.RefCocoDataset``).
            Defaults to True.
        min_center_crop_fraction (float, optional): Keep only objects that keep at least this
            fraction of their pixels inside the image's centred square crop (our RefCOCO-C, see
            ``configs/peekaboo/README.md``). None keeps every ref. Defaults to None.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """
    METAINFO = dict(classes=('background', 'object'), palette=[[0, 0, 0], [220, 20, 60]])

    def __init__(self,
                 data_root: str,
                 ann_file: str,
                 split_file: str,
                 data_prefix: dict,
                 split: str = 'val',
                 lower_case: bool = True,
                 min_center_crop_fraction: Optional[float] = None,
                 **kwargs) -> None:
        if min_center_crop_fraction is not None and not 0.0 < min_center_crop_fraction <= 1.0:
            raise ValueError('min_center_crop_fraction must lie in (0, 1], got '
                             f'{min_center_crop_fraction}')
        self.lower_case = lower_case
        self.min_center_crop_fraction = min_center_crop_fraction
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            split_file=split_file,
            data_prefix=data_prefix,
            split=split,
            text_mode='original',
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List one sample per expression of ``self.split``."""
        for path in (self.split_file, self.ann_file):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{type(self).__name__}: {path} does not exist')
        self.splits = safe_pickle_load(self.split_file)  # builtin containers only
        self.instances = mmengine.load(self.ann_file, file_format='json')
        self._init_refs()
        images = {image['id']: image for image in self.instances['images']}
        img_prefix = self.data_prefix['img_path']
        join_path = mmengine.fileio.get_file_backend(img_prefix).join_path

        data_list = []
        available = sorted({ref['split'] for ref in self.splits})
        for ref in self.splits:
            if ref['split'] != self.split:
                continue
            ann = self.ref_to_ann[ref['ref_id']]
            image = images[ann['image_id']]
            if self.min_center_crop_fraction is not None:
                mask = decode_coco_mask(ann['segmentation'], image['height'], image['width'])
                if center_square_fraction(mask) < self.min_center_crop_fraction:
                    continue
            x, y, w, h = ann['bbox']
            instance = dict(
                mask=ann['segmentation'], bbox=[x, y, x + w, y + h], bbox_label=0, ignore_flag=0)
            for sentence in ref['sentences']:
                text = sentence['raw'].lower() if self.lower_case else sentence['raw']
                data_list.append(
                    dict(
                        img_path=join_path(img_prefix, image['file_name']),
                        img_id=image['id'],
                        height=image['height'],
                        width=image['width'],
                        text=text,
                        sent_id=sentence['sent_id'],
                        ref_id=ref['ref_id'],
                        ann_id=ref['ann_id'],
                        category_id=ref['category_id'],
                        instances=[instance]))
        if not data_list:
            raise ValueError(f'{type(self).__name__}: no expression in split "{self.split}" of '
                             f'{self.split_file} (splits there: {available})')
        return data_list
