# Copyright (c) mmgen_vision contributors. All rights reserved.
"""COCO Captions (``captions_*2017.json``, also written by ShapesWorld) for captioning and
image-text retrieval."""
import os.path as osp
from typing import List

import mmengine
from mmengine.dataset import BaseDataset

from mmgen_vision.registry import DATASETS


@DATASETS.register_module()
class CocoCaptionDataset(BaseDataset):
    """Images with their captions in the COCO Captions layout.

    The annotation file has ``images`` (``id``, ``file_name``, ``height``, ``width``) and
    ``annotations`` (``image_id``, ``caption``). Two listings:

    - ``sample_per='caption'`` (training captioning / contrastive learning): one sample per
      caption, ``text`` is that caption;
    - ``sample_per='image'`` (captioning and retrieval evaluation): one sample per image with
      every caption, ``text`` is the first one.

    Every data info has ``img_path``, ``img_id``, ``height``, ``width``, ``text`` (str) and
    ``captions`` (all captions of the image, list of str, in file order). Images without a
    caption are left out.

    Args:
        ann_file (str): The captions json, e.g. ``'annotations/captions_train2017.json'``.
        data_root (str): Root of ``ann_file`` and ``data_prefix``.
        data_prefix (dict): ``dict(img_path='train2017/')``.
        sample_per (str): ``'caption'`` or ``'image'``. Defaults to ``'caption'``.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """
    METAINFO = dict(dataset_type='coco_caption')

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: dict = dict(img_path=''),
                 sample_per: str = 'caption',
                 **kwargs) -> None:
        if sample_per not in ('caption', 'image'):
            raise ValueError(f"CocoCaptionDataset: sample_per must be 'caption' or 'image', got "
                             f'{sample_per!r}')
        self.sample_per = sample_per
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'CocoCaptionDataset: annotation file {self.ann_file} does '
                                    'not exist')
        data = mmengine.load(self.ann_file)
        for key in ('images', 'annotations'):
            if key not in data:
                raise ValueError(f'CocoCaptionDataset: {self.ann_file} has no "{key}" list; is '
                                 'it a COCO captions file?')
        captions = {}
        for ann in data['annotations']:
            captions.setdefault(ann['image_id'], []).append(ann['caption'].strip())
        img_prefix = self.data_prefix.get('img_path', '')
        data_list = []
        for image in data['images']:
            texts = captions.get(image['id'])
            if not texts:
                continue
            base = dict(
                img_path=osp.join(img_prefix, image['file_name']),
                img_id=image['id'],
                height=image.get('height'),
                width=image.get('width'),
                captions=list(texts))
            if self.sample_per == 'image':
                data_list.append(dict(base, text=texts[0]))
            else:
                data_list.extend(dict(base, text=text) for text in texts)
        if not data_list:
            raise ValueError(f'CocoCaptionDataset: no captioned image in {self.ann_file}')
        return data_list
