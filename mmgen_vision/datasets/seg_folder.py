# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Semantic segmentation from a folder of your own: ``images/`` + ``masks/`` (index PNGs)."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmgen_vision.registry import DATASETS
from mmgen_vision.utils.image_io import read_image_file

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def read_class_names(path: str) -> tuple:
    """Class names from a text file, one per line (blank lines and ``#`` comments skipped)."""
    with open(path, encoding='utf-8') as f:
        names = [line.split('#', 1)[0].strip() for line in f]
    names = tuple(name for name in names if name)
    if not names:
        raise ValueError(f'{path} lists no class names (one per line expected)')
    return names


@DATASETS.register_module()
class SegFolderDataset(BaseSegDataset):
    """Semantic segmentation from ``<data_root>/<img_dir>`` + ``<data_root>/<mask_dir>``.

    Every image (any of :data:`IMAGE_SUFFIXES`) needs a mask of the same stem with
    ``mask_suffix``: a single-channel (grey or palette) PNG holding the class index of every
    pixel and 255 where nothing is labelled (ignored by losses and metrics). The class list
    is the dataset's and nothing else's: ``metainfo=dict(classes=(...))`` or a ``classes.txt``
    (one name per line) in ``data_root``; heads, losses and codecs are checked against it
    before the first iteration (``ClassConsistencyHook``).

    Background is explicit, with ``zero_is_background``:

    * ``False`` (default): mask value ``i`` is ``classes[i]``; a background class of your own,
      if any, is just one of the classes (name it, e.g. ``classes=('background', 'ball', ...)``).
    * ``True``: mask value 0 is unlabelled background that is ignored, and ``1..K`` are
      ``classes[0..K-1]`` (ADE20K's convention, mmseg's ``reduce_zero_label``). Leave
      ``reduce_zero_label`` out of the pipeline's ``mmseg.LoadAnnotations``: it follows the
      dataset.

    Args:
        data_root (str): The folder holding ``img_dir`` and ``mask_dir``.
        img_dir (str): Image folder, relative to ``data_root``. Defaults to ``'images'``.
        mask_dir (str): Mask folder, relative to ``data_root``. Defaults to ``'masks'``.
        classes (Sequence[str] | str, optional): Class names, or a file of them; otherwise
            ``metainfo['classes']``, otherwise ``<data_root>/classes.txt``.
        zero_is_background (bool): See above. Defaults to False.
        mask_suffix (str): Defaults to ``'.png'``.
        check_labels (bool): Read every mask once when the list is loaded and refuse a value
            that is no class index (nor 255), naming the file; a mask with the wrong class
            count then fails at once instead of training on wrong labels. Defaults to True.
        **kwargs: ``pipeline``, ``metainfo``, ``test_mode``, ``indices``... of
            ``mmseg.BaseSegDataset``.
    """

    METAINFO: dict = dict()

    def __init__(self,
                 data_root: str,
                 img_dir: str = 'images',
                 mask_dir: str = 'masks',
                 classes: Optional[Union[Sequence[str], str]] = None,
                 zero_is_background: bool = False,
                 mask_suffix: str = '.png',
                 check_labels: bool = True,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if 'data_prefix' in kwargs:
            raise TypeError('SegFolderDataset takes img_dir= and mask_dir= (relative to '
                            'data_root) instead of data_prefix; replace an inherited dataset '
                            'dict with _delete_=True')
        if 'reduce_zero_label' in kwargs:
            raise TypeError('SegFolderDataset takes zero_is_background=True/False instead of '
                            'reduce_zero_label (the same switch, named after what it means)')
        metainfo = dict(metainfo or {})
        if isinstance(classes, str):
            classes = read_class_names(classes if osp.isabs(classes) else osp.join(
                data_root, classes))
        if classes is not None:
            if metainfo.get('classes') is not None and tuple(metainfo['classes']) != tuple(
                    classes):
                raise ValueError('SegFolderDataset got two class lists: classes= and '
                                 "metainfo['classes']; give one")
            metainfo['classes'] = tuple(classes)
        if metainfo.get('classes') is None:
            listed = osp.join(data_root, 'classes.txt')
            if not osp.isfile(listed):
                raise ValueError(
                    f'SegFolderDataset at {data_root} has no class list: give '
                    "metainfo=dict(classes=(...)) (or classes=...) or write one name per line "
                    f'into {listed}.')
            metainfo['classes'] = read_class_names(listed)
        self.check_labels = check_labels
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img_path=img_dir, seg_map_path=mask_dir),
            seg_map_suffix=mask_suffix,
            reduce_zero_label=zero_is_background,
            metainfo=metainfo,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Pair every image with its mask; refuse missing masks and labels beyond the classes."""
        img_dir = self.data_prefix.get('img_path', '')
        mask_dir = self.data_prefix.get('seg_map_path', '')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'SegFolderDataset: image folder {img_dir} does not exist')
        names = sorted(n for n in os.listdir(img_dir)
                       if osp.splitext(n)[1].lower() in IMAGE_SUFFIXES)
        if not names:
            raise FileNotFoundError(f'SegFolderDataset: no images ({", ".join(IMAGE_SUFFIXES)}) '
                                    f'in {img_dir}')
        num_classes = len(self._metainfo['classes'])
        # with zero_is_background, stored values run 0..K (0 dropped), else 0..K-1
        max_label = num_classes if self.reduce_zero_label else num_classes - 1
        data_list = []
        for name in names:
            mask = osp.join(mask_dir, osp.splitext(name)[0] + self.seg_map_suffix)
            if not osp.isfile(mask):
                raise FileNotFoundError(
                    f'SegFolderDataset: image {osp.join(img_dir, name)} has no mask {mask}')
            if self.check_labels:
                # palette indices kept (pillow, unchanged), as mmseg's LoadAnnotations reads them
                values = np.unique(read_image_file(mask, flag='unchanged', backend='pillow'))
                bad = [int(v) for v in values if v > max_label and v != 255]
                if bad:
                    raise ValueError(
                        f'SegFolderDataset: mask {mask} holds label(s) {bad} but the dataset has '
                        f'{num_classes} classes (values 0..{max_label}'
                        + (', 0 being ignored background' if self.reduce_zero_label else '') +
                        ', and 255 = ignore). Fix the class list (metainfo classes / '
                        'classes.txt) or zero_is_background.')
            data_list.append(
                dict(img_path=osp.join(img_dir, name), seg_map_path=mask,
                     label_map=self.label_map, reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[]))
        return data_list
