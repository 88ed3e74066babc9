# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Text tokenization and packing for X-Decoder's data sources (captions, retrieval, referring
phrases) on top of mmdet's ``PackDetInputs``."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.datasets.transforms import PackDetInputs

from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer


@TRANSFORMS.register_module()
class TokenizeXDecoderText(BaseTransform):
    """Tokenize texts with CLIP's BPE into ids and a validity mask.

    For each ``source key -> prefix`` of ``keys``, ``results[key]`` (a string or a list of
    strings) becomes ``<prefix>_tokens`` (long, ``(L,)`` for a string, ``(N, L)`` for a list)
    and ``<prefix>_mask`` (bool, same shape, True from the start token to the first end token
    included, False on the padding). Keys missing from the results are skipped unless listed
    in ``required``.

    Typical uses: ``dict(text='caption')`` (captioning target: ``caption_tokens``,
    ``caption_mask``), ``dict(captions='all_caption')`` (every caption of an image, retrieval
    evaluation), ``dict(text='grd')`` on ``mmdet.RefCocoDataset`` samples (one phrase per
    referred object, aligned with ``gt_instances``).

    Args:
        keys (dict): ``{results key: output prefix}``. Defaults to ``dict(text='caption')``.
        context_length (int): L. Defaults to 77.
        pad_token (str): ``'eot'`` (the release's HuggingFace CLIP tokenizer) or ``'zero'``.
            Defaults to ``'eot'``.
        required (Sequence[str]): Keys that must be present. Defaults to ().
    """

    def __init__(self,
                 keys: Dict[str, str] = dict(text='caption'),
                 context_length: int = 77,
                 pad_token: str = 'eot',
                 required: Sequence[str] = ()) -> None:
        if not keys:
            raise ValueError('TokenizeXDecoderText: keys is empty')
        self.keys = dict(keys)
        self.required = tuple(required)
        self.context_length = context_length
        self.pad_token = pad_token
        self.tokenizer = CLIPTokenizer(context_length=context_length, pad_token=pad_token)

    def tokenize(self, texts: Sequence[str]):
        """``(N, L)`` ids and ``(N, L)`` bool mask of ``texts``."""
        ids = self.tokenizer(list(texts))
        eot = self.tokenizer.eot_index(ids)
        mask = torch.arange(ids.shape[1])[None] <= eot[:, None]
        return ids, mask

    def transform(self, results: dict) -> dict:
        for key, prefix in self.keys.items():
            if key not in results:
                if key in self.required:
                    raise KeyError(f'TokenizeXDecoderText: `{key}` missing from '
                                   f'{results.get("img_path", "a sample")}')
                continue
            texts = results[key]
            single = isinstance(texts, str)
            if not single and (not isinstance(texts, (list, tuple))
                               or not all(isinstance(t, str) for t in texts)):
                raise TypeError(f'TokenizeXDecoderText: `{key}` must be a string or a list of '
                                f'strings, got {type(texts).__name__}')
            ids, mask = self.tokenize([texts] if single else texts)
            results[f'{prefix}_tokens'] = ids[0] if single else ids
            results[f'{prefix}_mask'] = mask[0] if single else mask
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, '
                f'context_length={self.context_length}, pad_token={self.pad_token!r})')


@TRANSFORMS.register_module()
class PackXDecoderInputs(PackDetInputs):
    """``mmdet.PackDetInputs`` plus X-Decoder's text fields and task tag.

    Packs the image and the detection / panoptic annotations exactly as ``PackDetInputs``
    (``gt_instances.labels``, ``gt_instances.masks``, ``gt_sem_seg``, ...), then copies the
    ``data_keys`` found in the results (token ids and masks of ``TokenizeXDecoderText``) to
    data fields of the ``DetDataSample`` as tensors, and sets ``task`` in its metainfo.
    Instances with masks but no labels (referring data) get label 0, so that
    ``gt_instances.labels`` always exists.

    Args:
        task (str, optional): ``'panoptic'``, ``'referring'``, ``'caption'``,
            ``'retrieval'``, ... Defaults to None (not set).
        data_keys (Sequence[str]): Result keys packed as data fields. Defaults to the outputs
            of ``TokenizeXDecoderText`` for the prefixes ``caption``, ``all_caption`` and
            ``grd``.
        meta_keys (Sequence[str]): Defaults to ``PackDetInputs``'s plus ``img_id``, ``text``
            and ``captions``.
    """

    def __init__(self,
                 task: Optional[str] = None,
                 data_keys: Sequence[str] = ('caption_tokens', 'caption_mask', 'all_caption_tokens',
                                             'all_caption_mask', 'grd_tokens', 'grd_mask'),
                 meta_keys: Sequence[str] = ('img_id', 'img_path', 'ori_shape', 'img_shape',
                                             'scale_factor', 'flip', 'flip_direction', 'text',
                                             'captions')) -> None:
        super().__init__(meta_keys=tuple(meta_keys))
        self.task = task
        self.data_keys = tuple(data_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        data_sample = packed['data_samples']
        instances = data_sample.get('gt_instances')
        if instances is not None and 'masks' in instances and 'labels' not in instances:
            # referring data has masks but no class: every referred object gets label 0
            instances.labels = torch.zeros(len(instances.masks), dtype=torch.long)
        for key in self.data_keys:
            if key in results:
                value = results[key]
                if not isinstance(value, torch.Tensor):
                    value = torch.as_tensor(np.asarray(value))
                data_sample.set_field(value, key)
        if self.task is not None:
            data_sample.set_metainfo(dict(task=self.task))
        return packed

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(task={self.task!r}, data_keys={self.data_keys}, '
                f'meta_keys={self.meta_keys})')
