# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Transforms of the referring and zero-shot segmentation protocols.

``LoadReferringAnnotations`` turns the referred object's COCO mask into the binary semantic map
that mmseg's structures carry (``gt_sem_seg``), and ``CenterCropSquare`` makes the square
centre crops of VOC-C / RefCOCO-C (see ``configs/peekaboo/README.md``). Pack the samples with
the stock ``mmseg.PackSegInputs`` and ``'text'`` added to its ``meta_keys``.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmgen_vision.registry import TRANSFORMS


def decode_coco_mask(segmentation, height: int, width: int) -> np.ndarray:
    """Decode a COCO ``segmentation`` (polygons, uncompressed or compressed RLE) to a mask.

    Args:
        segmentation (list | dict): The annotation's ``segmentation`` field.
        height (int): Image height.
        width (int): Image width.

    Returns:
        np.ndarray: ``(height, width)`` uint8 mask, 1 on the object.
    """
    from pycocotools import mask as mask_utils
    if isinstance(segmentation, list):  # polygons; an object may have several parts
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation, dict) and isinstance(segmentation.get('counts'), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)  # uncompressed RLE
    elif isinstance(segmentation, dict) and 'counts' in segmentation:
        rle = dict(segmentation)
        if isinstance(rle['counts'], str):
            rle['counts'] = rle['counts'].encode('ascii')
    else:
        raise TypeError('a COCO segmentation is a list of polygons or an RLE dict, got '
                        f'{type(segmentation).__name__}')
    mask = mask_utils.decode(rle)
    if mask.shape[:2] != (height, width):
        raise ValueError(f'the decoded mask is {mask.shape[0]}x{mask.shape[1]} but the image is '
                         f'{height}x{width}')
    return mask.astype(np.uint8)


@TRANSFORMS.register_module()
class LoadReferringAnnotations(BaseTransform):
    """Decode the referred object(s) into a binary semantic map ``gt_seg_map``.

    Reads ``results['instances']`` as listed by ``RefCocoSegDataset`` (COCO ``mask`` per
    instance, polygons or RLE): pixels of any instance with ``ignore_flag == 0`` become
    ``foreground_index`` (1), pixels of ignored instances not covered by a referred one become
    ``ignore_index`` and everything else 0. The map has the image's size (``ori_shape`` after
    ``LoadImageFromFile``, else the annotation's ``height``/``width``) and is appended to
    ``seg_fields``, so mmseg's geometric transforms and ``PackSegInputs`` handle it as any
    semantic map.

    Required keys: ``instances``, ``ori_shape`` or ``height`` and ``width``.
    Added keys: ``gt_seg_map``, ``seg_fields``.

    Args:
        foreground_index (int): Label of the referred object. Defaults to 1.
        ignore_index (int): Label of ignored instances. Defaults to 255.
    """

    def __init__(self, foreground_index: int = 1, ignore_index: int = 255) -> None:
        self.foreground_index = foreground_index
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if 'ori_shape' in results:
            height, width = results['ori_shape'][:2]
        elif 'height' in results and 'width' in results:
            height, width = results['height'], results['width']
        else:
            raise KeyError('LoadReferringAnnotations needs the image size: run LoadImageFromFile '
                           'first or give height/width in the data info')
        instances = results.get('instances')
        if not instances:
            raise KeyError(f'no referred instance for {results.get("img_path", "a sample")}')
        referred = np.zeros((height, width), dtype=bool)
        ignored = np.zeros((height, width), dtype=bool)
        for instance in instances:
            mask = decode_coco_mask(instance['mask'], height, width).astype(bool)
            if instance.get('ignore_flag', 0):
                ignored |= mask
            else:
                referred |= mask
        gt_seg_map = np.zeros((height, width), dtype=np.uint8)
        gt_seg_map[ignored] = self.ignore_index
        gt_seg_map[referred] = self.foreground_index
        results['gt_seg_map'] = gt_seg_map
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(foreground_index={self.foreground_index}, '
                f'ignore_index={self.ignore_index})')


@TRANSFORMS.register_module()
class CenterCropSquare(BaseTransform):
    """Crop the image and its semantic maps to the centred square whose side is the short side.

    Peekaboo's protocol (VOC-C, RefCOCO-C) evaluates the square centre crop: the crop *is* the
    evaluated image, so with ``as_original`` the crop's size also becomes ``ori_shape`` and the
    model returns its prediction at the crop's resolution, the resolution of the cropped ground
    truth. An odd margin leaves the extra row/column at the bottom/right.

    Required keys: ``img``; optional ``seg_fields``.
    Modified keys: ``img``, ``img_shape``, the ``seg_fields`` maps, ``ori_shape``
    (with ``as_original``). Added keys: ``crop_bbox`` (``x1, y1, x2, y2`` in the input image).

    Args:
        as_original (bool): Set ``ori_shape`` to the crop's size. Defaults to True.
        size (int, optional): Resize the cropped *image* (not the maps) to ``size`` x ``size``
            with bilinear interpolation. None keeps the crop's resolution. Defaults to None.
    """

    def __init__(self, as_original: bool = True, size: Optional[int] = None) -> None:
        if size is not None and size < 1:
            raise ValueError(f'size must be positive, got {size}')
        self.as_original = as_original
        self.size = size

    def transform(self, results: dict) -> dict:
        import mmcv
        img = results['img']
        height, width = img.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        results['img'] = img[top:top + side, left:left + side]
        for key in results.get('seg_fields', []):
            seg = results[key]
            if seg.shape[:2] != (height, width):
                raise ValueError(f'{key} is {seg.shape[0]}x{seg.shape[1]} but the image is '
                                 f'{height}x{width}; crop before resizing either of them')
            results[key] = seg[top:top + side, left:left + side]
        results['crop_bbox'] = (left, top, left + side, top + side)
        if self.as_original:
            results['ori_shape'] = (side, side)
        if self.size is not None and self.size != side:
            results['img'] = mmcv.imresize(results['img'], (self.size, self.size),
                                           interpolation='bilinear')
            results['scale_factor'] = (self.size / side, self.size / side)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(as_original={self.as_original}, size={self.size})'
