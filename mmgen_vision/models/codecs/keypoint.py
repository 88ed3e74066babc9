# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Top-down keypoints <-> a heatmap (R) plus joint-identity colours (G, B)."""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import KEYPOINT_CODECS
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS
from .base import BaseImageCodec, require


@TASK_UTILS.register_module()
class KeypointCodec(BaseImageCodec):
    """Keypoints of a top-down crop as an image.

    ``R`` = max over visible joints of a gaussian (``sigma``) times 255; ``(G, B)`` = the joint's
    identity colour ``(255 - step * (j // cols), 255 - step * (j % cols))`` on a square of side
    ``2 * id_radius + 1`` around it (black elsewhere). Foreground pixels weigh ``fg_weight`` in
    the loss (10 in the release).

    Decoding classifies ``(G, B)`` into a joint (or background), builds per-joint heatmaps
    ``R * [class == j] / 255`` and hands them to the stock mmpose heatmap decoder
    (``mmpose.MSRAHeatmap`` at the crop resolution); :meth:`decode_flip` averages with the
    prediction of the flipped crop (flip test).

    Args:
        num_keypoints (int): Joints (17 for COCO).
        sigma (float): Heatmap gaussian sigma (3).
        id_radius (int): Half side of the identity square (4 -> 9 x 9).
        cols (int): Identity colours per row (5 -> a 5 x 5 grid with step 51).
        step (int): Colour step (51).
        fg_weight (float): Loss weight of the foreground pixels.
        flip_indices (sequence[int], optional): Left/right partner of each joint (flip test).
    """
    resize_mode = 'nearest'
    target_resize_mode = 'nearest'
    augment = False
    supports_flip = True

    def __init__(self, num_keypoints: int = 17, sigma: float = 3., id_radius: int = 4,
                 cols: int = 5, step: int = 51, fg_weight: float = 10.,
                 flip_indices: Optional[Sequence[int]] = None) -> None:
        if 255 - step * ((num_keypoints - 1) // cols) <= 0 or 255 - step * (cols - 1) <= 0:
            raise ValueError(f'{num_keypoints} joints do not fit a {cols}-column grid of '
                             f'step {step}')
        self.num_keypoints = num_keypoints
        self.sigma = sigma
        self.id_radius = id_radius
        self.cols, self.step = cols, step
        self.fg_weight = fg_weight
        self.flip_indices = list(flip_indices) if flip_indices is not None else None
        j = np.arange(num_keypoints)
        self.id_colours = np.stack([255 - step * (j // cols), 255 - step * (j % cols)],
                                   axis=-1).astype(np.uint8)

    def output_shape(self, metainfo: dict, default: Tuple[int, int]) -> Tuple[int, int]:
        """The top-down crop (``input_size`` ``(w, h)``), not the original image."""
        if 'input_size' in metainfo:
            w, h = metainfo['input_size']
            return int(h), int(w)
        return super().output_shape(metainfo, default)

    def encode_keypoints(self, keypoints: np.ndarray, visible: np.ndarray,
                         size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
        """``(K, 2)`` crop coordinates and ``(K,)`` visibility -> target and valid maps."""
        h, w = size
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        heat = np.zeros((h, w), dtype=np.float32)
        ident = np.zeros((h, w, 2), dtype=np.uint8)
        for j, ((x, y), v) in enumerate(zip(keypoints, visible)):
            if v <= 0 or not (0 <= x < w and 0 <= y < h):
                continue
            g = np.exp(-((xs - x)**2 + (ys - y)**2) / (2 * self.sigma**2))
            heat = np.maximum(heat, g)
            cx, cy = int(round(x)), int(round(y))
            r = self.id_radius
            ident[max(cy - r, 0):cy + r + 1, max(cx - r, 0):cx + r + 1] = self.id_colours[j]
        target = np.concatenate([np.round(heat * 255).astype(np.uint8)[..., None], ident], -1)
        fg = (target > 0).any(-1)
        valid = np.where(fg, self.fg_weight, 1.).astype(np.float32)
        return target, np.repeat(valid[..., None], 3, axis=2)

    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        # after mmpose's TopdownAffine the crop coordinates are `transformed_keypoints`
        key = 'transformed_keypoints' if np.ndim(results.get('transformed_keypoints')) == 3 \
            else 'keypoints'
        keypoints = np.asarray(require(results, key, 'KeypointCodec'), np.float32)[..., :2]
        visible = np.asarray(require(results, 'keypoints_visible', 'KeypointCodec'), np.float32)
        keypoints = keypoints.reshape(-1, self.num_keypoints, 2)[0]
        visible = visible.reshape(-1, self.num_keypoints)[0]
        # the (cropped) image itself: mmpose's TopdownAffine does not update `img_shape`
        h, w = (results['img'].shape if 'img' in results else results['img_shape'])[:2]
        return self.encode_keypoints(keypoints, visible, (h, w))

    def heatmaps(self, pred: Tensor) -> Tensor:
        """``(3, H, W)`` 0-255 -> ``(K, H, W)`` per-joint heatmaps in [0, 1]."""
        colours = torch.as_tensor(self.id_colours, dtype=torch.float32, device=pred.device)
        colours = torch.cat([colours, colours.new_zeros(1, 2)])  # last = background
        gb = pred[1:].float().flatten(1).t()
        cls = torch.cdist(gb, colours).argmin(1).view(pred.shape[1:])
        heat = pred[0].float().clamp(0, 255) / 255.
        onehot = cls[None] == torch.arange(self.num_keypoints, device=pred.device)[:, None, None]
        return heat[None] * onehot

    def _stock_decode(self, heatmaps: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        h, w = heatmaps.shape[1:]
        decoder = KEYPOINT_CODECS.build(
            dict(type='MSRAHeatmap', input_size=(w, h), heatmap_size=(w, h), sigma=self.sigma))
        return decoder.decode(heatmaps.cpu().numpy())

    def decode(self, pred: Tensor, **kwargs) -> Tuple[np.ndarray, np.ndarray]:
        """``(3, H, W)`` -> keypoints ``(1, K, 2)`` (crop pixels) and scores ``(1, K)``."""
        return self._stock_decode(self.heatmaps(pred))

    def decode_flip(self, pred: Tensor, pred_flipped: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Flip test: average the heatmaps of a crop and (flipped back) of its mirror."""
        if self.flip_indices is None:
            raise ValueError('KeypointCodec.flip_indices is needed for the flip test')
        flipped = flip_heatmaps(self.heatmaps(pred_flipped)[None], self.flip_indices,
                                flip_mode='heatmap', shift_heatmap=False)[0]
        return self._stock_decode((self.heatmaps(pred) + flipped) / 2)

    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        """Keypoints back in image coordinates (``input_center`` / ``input_scale`` of the
        top-down crop) as ``pred_instances`` of the mmpose data sample."""
        self._pack(*self.decode(pred), tuple(pred.shape[1:]), data_sample)

    def decode_flip_to_sample(self, pred: Tensor, pred_flipped: Tensor, data_sample) -> None:
        """:meth:`decode_flip` (``pred_flipped``: the painting of the mirrored crop, as
        painted), packed like :meth:`decode_to_sample`."""
        self._pack(*self.decode_flip(pred, pred_flipped), tuple(pred.shape[1:]), data_sample)

    @staticmethod
    def _pack(keypoints: np.ndarray, scores: np.ndarray, size: Tuple[int, int],
              data_sample) -> None:
        meta = data_sample.metainfo
        if 'input_center' in meta and 'input_scale' in meta:
            h, w = size
            scale = np.asarray(meta['input_scale'], np.float32).reshape(-1, 2)[0]
            center = np.asarray(meta['input_center'], np.float32).reshape(-1, 2)[0]
            keypoints = keypoints / np.array([w, h], np.float32) * scale + center - 0.5 * scale
        instances = InstanceData()
        instances.keypoints = keypoints
        instances.keypoint_scores = scores
        data_sample.pred_instances = instances
