# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Loading / packing transforms for paired restoration data (Painter and any image-to-image
task): the degraded image is ``img``, the clean one ``gt_img``."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement, PixelData

from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils.image_io import decode_image_bytes, fetch_image_bytes


@TRANSFORMS.register_module()
class LoadPairedImage(BaseTransform):
    """Load the clean image of a restoration pair into ``results['gt_img']`` (BGR, uint8).

    Required keys: ``gt_img_path``. Added keys: ``gt_img``.
    """

    def transform(self, results: dict) -> dict:
        path = results.get('gt_img_path')
        if path is None:
            raise KeyError(f'LoadPairedImage needs `gt_img_path` (sample '
                           f'{results.get("img_path", "?")}); use PainterRestorationDataset')
        img = decode_image_bytes(fetch_image_bytes(path), path, flag='color', channel_order='bgr')
        if 'img' in results and results['img'].shape[:2] != img.shape[:2]:
            raise ValueError(f'{path} is {img.shape[:2]} but its input '
                             f'{results.get("img_path")} is {results["img"].shape[:2]}')
        results['gt_img'] = img
        return results


@TRANSFORMS.register_module()
class PackRestorationInputs(BaseTransform):
    """Pack ``img`` (``(3, H, W)`` BGR uint8 tensor) and ``gt_img`` (``PixelData``, RGB uint8
    ``(3, H, W)``) with ``img_path``, ``gt_img_path``, ``ori_shape``, ``img_shape``."""

    def transform(self, results: dict) -> dict:
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = BaseDataElement(metainfo=dict(
            img_path=results.get('img_path'), gt_img_path=results.get('gt_img_path'),
            ori_shape=results.get('ori_shape', results['img'].shape[:2]),
            img_shape=results['img'].shape[:2]))
        if 'gt_img' in results:
            gt = np.ascontiguousarray(results['gt_img'][..., ::-1].transpose(2, 0, 1))
            sample.gt_img = PixelData(data=torch.from_numpy(gt))
        return dict(inputs=torch.from_numpy(img), data_samples=sample)
