# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-only dataset read from an ImageNet-style list file, for GLID pre-training."""
import os.path as osp
from typing import List

from mmengine.dataset import BaseDataset

from mmgen_vision.registry import DATASETS


@DATASETS.register_module()
class GLIDImageListDataset(BaseDataset):
    """Images listed as ``<relative path> [<label>]`` per line (ImageNet's ``meta/train.txt``;
    ShapesWorld's ``imagenet`` format). Labels are kept as ``gt_label`` but pre-training
    ignores them.

    Args:
        ann_file (str): The list file, relative to ``data_root``.
        data_prefix (dict): ``dict(img_path=<image folder>)`` relative to ``data_root``.
        **kwargs: ``mmengine.dataset.BaseDataset`` arguments.
    """

    def __init__(self, ann_file: str, data_prefix: dict = dict(img_path=''), **kwargs) -> None:
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'GLIDImageListDataset: list file {self.ann_file} not found')
        img_dir = self.data_prefix.get('img_path', '')
        data_list = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) > 2:
                    raise ValueError(f'{self.ann_file}:{lineno}: expected "<path> [<label>]", '
                                     f'got {line.strip()!r}')
                info = dict(img_path=osp.join(img_dir, parts[0]))
                if len(parts) == 2:
                    info['gt_label'] = int(parts[1])
                data_list.append(info)
        if not data_list:
            raise ValueError(f'GLIDImageListDataset: {self.ann_file} lists no image')
        return data_list
