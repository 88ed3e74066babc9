# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Task <-> image codecs: every task's ground truth as a 3-channel image and back.

A codec is registered in ``TASK_UTILS`` and has three jobs:

* :meth:`encode` turns the ground truth of a loaded sample (the results dict of the stock
  loading transforms) into a ``uint8 (H, W, 3)`` RGB target image plus a ``float32 (H, W, 3)``
  per-pixel loss weight ("valid" map);
* :meth:`decode` turns a predicted image (``float (3, H, W)``, 0-255) back into the task's
  standard prediction;
* :meth:`decode_to_sample` writes that prediction into the stock data sample field the stock
  metric reads (``pred_sem_seg``, ``pred_depth_map``, ``pred_instances``, ...).
"""
from abc import ABCMeta, abstractmethod
from typing import Tuple

import numpy as np
from torch import Tensor


class BaseImageCodec(metaclass=ABCMeta):
    """Interface of the task <-> image codecs.

    Attributes:
        resize_mode (str): Interpolation used to bring a predicted image back to the sample's
            original size before decoding (``'bilinear'``, ``'bicubic'`` or ``'nearest'``).
        target_resize_mode (str): Interpolation of encoded TARGET images when a sample is
            resized for training (``'nearest'`` wherever colours are discrete codes).
        augment (bool): Whether geometric / photometric augmentation suits the task.
        supports_flip (bool): The codec has a flip test (:meth:`decode_flip_to_sample`): true
            for paintings of continuous values (depth, restoration), whose mirrored prediction
            is mirrored back and averaged, and for keypoints (their own rule); false where
            colours are discrete codes (semantic classes, instance positions), since the mean
            of two code colours is the code of neither.
        decode_priority (int): Order in which the predictions of several prompts of one query
            are decoded into the same sample (lower first): codecs that read another prompt's
            output (instances take their classes from ``pred_sem_seg``) come later.
    """
    resize_mode = 'bilinear'
    target_resize_mode = 'bilinear'
    augment = True
    supports_flip = False
    decode_priority = 0

    def output_shape(self, metainfo: dict, default: Tuple[int, int]) -> Tuple[int, int]:
        """``(H, W)`` the predicted image is resized to before decoding: the sample's
        ``ori_shape`` (``default`` without one)."""
        return tuple(metainfo.get('ori_shape', default))[:2]

    @abstractmethod
    def encode(self, results: dict) -> Tuple[np.ndarray, np.ndarray]:
        """Ground truth of a loaded sample -> (``uint8 (H, W, 3)`` target, ``float32 (H, W, 3)``
        valid map)."""

    @abstractmethod
    def decode(self, pred: Tensor, **kwargs):
        """Predicted image ``float (3, H, W)`` in 0-255 -> the task's prediction."""

    @abstractmethod
    def decode_to_sample(self, pred: Tensor, data_sample) -> None:
        """Decode ``pred`` and store it in ``data_sample`` under the stock field name."""

    def decode_flip_to_sample(self, pred: Tensor, pred_flipped: Tensor, data_sample) -> None:
        """Flip test: decode ``pred`` together with ``pred_flipped``, the prediction for the
        horizontally mirrored input (both ``float (3, H, W)``, 0-255).

        This default (codecs of continuous values) mirrors ``pred_flipped`` back, averages it
        with ``pred`` and decodes the mean with :meth:`decode_to_sample`.
        """
        if not self.supports_flip:
            raise ValueError(f'{type(self).__name__} has no flip test: its colours are discrete '
                             'codes and the mean of two paintings decodes to neither')
        self.decode_to_sample((pred + pred_flipped.flip(-1)) * 0.5, data_sample)


def ones_valid(shape: Tuple[int, int]) -> np.ndarray:
    """``float32 (H, W, 3)`` of ones."""
    return np.ones((shape[0], shape[1], 3), dtype=np.float32)


def require(results: dict, key: str, codec: str) -> object:
    """``results[key]`` or a clear error naming the codec and the missing annotation."""
    if key not in results or results[key] is None:
        where = results.get('img_path', results.get('img_id', '?'))
        raise KeyError(f'{codec} needs `{key}` in the loaded sample ({where}); add the loading '
                       f'transform that provides it to the dataset pipeline')
    return results[key]
