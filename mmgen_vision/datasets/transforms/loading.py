# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``LoadImageFromFile`` and ``LoadImage`` (mmpose's) of the mmgen_vision scope: the stock
loaders whose failures name the file.

Registered under the stock name, so every pipeline built in the ``mmgen_vision`` scope (all our
configs, ``dict(type='LoadImageFromFile')``) gets it; ``mmcv.LoadImageFromFile`` still names the
stock class. ``dict(type='LoadImage')`` (the top-down pose pipelines) is mmpose's loader reading
files the same way. Valid images decode with the same call and arguments (``mmcv.imfrombytes``,
``color_type``, ``imdecode_backend``), so their pixels are bit-identical to the stock loader's.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine import fileio
from mmpose.datasets.transforms import LoadImage as MMPoseLoadImage

from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils.image_io import decode_image_bytes, fetch_image_bytes


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """Load ``results['img_path']`` like :class:`mmcv.transforms.LoadImageFromFile`, raising
    :class:`~mmgen_vision.utils.image_io.ImageReadError` (naming the file and the cause:
    missing, empty, not an image, truncated, unreadable mode) instead of a bare ``cv2.error``,
    an ``AssertionError`` or, for a truncated JPEG, silently grey rows.

    Arguments, required keys (``img_path``) and added keys (``img``, ``img_shape``,
    ``ori_shape``) are the stock ones; ``ignore_empty=True`` still returns None for an
    unreadable file.
    """

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            img_bytes = self._fetch(filename)
            img = decode_image_bytes(img_bytes, filename, flag=self.color_type,
                                     backend=self.imdecode_backend)
        except Exception:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _fetch(self, filename: str) -> bytes:
        """The encoded bytes, fetched as the stock loader fetches them (local files through
        the checks of :func:`~mmgen_vision.utils.image_io.fetch_image_bytes`)."""
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args, filename)
            return client.get(filename)
        return fetch_image_bytes(filename, backend_args=self.backend_args)


@TRANSFORMS.register_module()
class LoadImage(MMPoseLoadImage, LoadImageFromFile):
    """mmpose's :class:`~mmpose.datasets.transforms.LoadImage` whose files are read by our
    :class:`LoadImageFromFile`.

    An image already in ``results['img']`` (mmpose's inferencers pass arrays) is handled by
    mmpose as before. A file is read by :meth:`LoadImageFromFile.transform`: a missing, empty,
    non-image or truncated file raises :class:`~mmgen_vision.utils.image_io.ImageReadError`
    naming the file and the cause (mmpose's loader re-raises every error as
    ``type(err)(message)``, which turns ours into an unrelated ``ValueError``, and cv2 gives a bare
    ``!buf.empty()``). Arguments and keys are mmpose's.
    """

    def transform(self, results: dict) -> Optional[dict]:
        if 'img' in results:
            return MMPoseLoadImage.transform(self, results)
        return LoadImageFromFile.transform(self, results)
