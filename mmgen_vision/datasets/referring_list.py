# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Referring expressions of your own from a simple JSON list."""
import io
import json
import os.path as osp
from typing import List

import numpy as np
from mmengine.dataset import BaseDataset
from PIL import Image

from mmgen_vision.registry import DATASETS
from mmgen_vision.utils.image_io import (check_image_bytes, read_image_bytes,
                                         read_image_file)


def _mask_to_rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


@DATASETS.register_module()
class ReferringListDataset(BaseDataset):
    """Referring segmentation from a JSON list, one sample per (image, sentence).

    ``ann_file`` (relative to ``data_root``) holds a list of entries::

        [{"image": "images/a.jpg", "sentence": "the red ball on the left",
          "mask": "masks/a_ball.png"},                       # non-zero pixels = the object
         {"image": "images/b.jpg", "sentence": "the crate",
          "polygon": [[x1, y1, x2, y2, ...], ...]}]          # COCO polygons, pixels

    Paths are relative to ``data_root`` (or ``data_prefix['img_path']`` for images). Each
    sample has what ``RefCocoSegDataset`` gives, so the RefCOCO pipelines and configs
    (``LoadReferringAnnotations``, Peekaboo's and X-Decoder's referring configs) run on it
    unchanged: ``img_path``, ``text`` (the sentence), ``ref_id`` / ``sent_id`` (the entry's
    index) and ``instances=[dict(mask=<polygons or RLE>, bbox=[x1, y1, x2, y2], bbox_label=0,
    ignore_flag=0)]``. A mask file is read when the list is loaded (its size must be the
    image's: checked, naming the file).

    Args:
        ann_file (str): The JSON list.
        data_root (str): Root of ``ann_file``, images and masks.
        lower_case (bool): Lower-case the sentences (as ``RefCocoSegDataset``). Defaults to
            False.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``,
            ``data_prefix``, ``test_mode``, ``indices``...).
    """
    METAINFO = dict(classes=('background', 'object'), palette=[[0, 0, 0], [220, 20, 60]])

    def __init__(self, ann_file: str, data_root: str = '', lower_case: bool = False,
                 **kwargs) -> None:
        self.lower_case = lower_case
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        with open(self.ann_file, encoding='utf-8') as f:
            entries = json.load(f)
        if not isinstance(entries, list):
            raise ValueError(f'{self.ann_file}: expected a JSON list of {{"image", "sentence", '
                             f'"mask" | "polygon"}} entries, got {type(entries).__name__}')
        img_prefix = self.data_prefix.get('img_path', '') or self.data_root
        data_list = []
        for index, entry in enumerate(entries):
            where = f'{self.ann_file} entry {index}'
            missing = {'image', 'sentence'} - set(entry)
            if missing or not ({'mask', 'polygon'} & set(entry)):
                raise KeyError(f'{where}: needs "image", "sentence" and "mask" or "polygon", '
                               f'got keys {sorted(entry)}')
            img_path = osp.join(img_prefix, entry['image'])
            if not osp.isfile(img_path):
                raise FileNotFoundError(f'{where}: image {img_path} does not exist')
            # header only (no decode): the reader's checks name the file and the cause
            data = read_image_bytes(img_path)
            check_image_bytes(data, img_path)
            width, height = Image.open(io.BytesIO(data)).size
            if 'mask' in entry:
                mask_path = osp.join(self.data_root, entry['mask'])
                if not osp.isfile(mask_path):
                    raise FileNotFoundError(f'{where}: mask {mask_path} does not exist')
                mask = read_image_file(mask_path, flag='unchanged', backend='pillow')
                mask = mask.any(-1) if mask.ndim == 3 else mask > 0
                if mask.shape != (height, width):
                    raise ValueError(f'{where}: mask {mask_path} is {mask.shape[1]} x '
                                     f'{mask.shape[0]} but the image is {width} x {height}')
                segmentation = _mask_to_rle(mask)
                ys, xs = np.nonzero(mask)
            else:
                segmentation = [list(map(float, p)) for p in entry['polygon']]
                points = np.concatenate([np.asarray(p).reshape(-1, 2) for p in segmentation])
                xs, ys = points[:, 0], points[:, 1]
            if len(xs) == 0:
                raise ValueError(f'{where}: the referred object has an empty mask')
            bbox = [float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1]
            text = entry['sentence'].lower() if self.lower_case else entry['sentence']
            data_list.append(
                dict(img_path=img_path, img_id=index, height=height, width=width, text=text,
                     ref_id=index, sent_id=index, ann_id=index, category_id=0,
                     instances=[dict(mask=segmentation, bbox=bbox, bbox_label=0,
                                     ignore_flag=0)]))
        return data_list
