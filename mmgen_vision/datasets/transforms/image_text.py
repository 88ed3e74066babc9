# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Transforms of image-text contrastive pre-training (GroupViT's recipe).

A training pipeline reads::

    LoadImageFromShard -> (augmentation) -> ExtractNouns -> PromptNouns -> TokenizeText
    -> PackImageTextInputs

and yields ``dict(inputs, data_samples)``: ``inputs`` is the uint8 image tensor ``(3, H, W)`` in
BGR order (mmcv's convention; the model's ``ImgDataPreprocessor`` converts to RGB and normalises)
and ``data_samples`` a :class:`mmengine.structures.BaseDataElement` with

- metainfo ``img_path``, ``text`` (raw caption), ``nouns`` (the nouns drawn from the caption,
  at most K), ``multi_label_texts`` (the K texts behind ``multi_label_ids``), ``ori_shape``,
  ``img_shape``;
- data fields ``text_ids`` (``LongTensor (L,)``, the tokenized caption) and
  ``multi_label_ids`` (``LongTensor (K, L)``, the K prompted nouns; a caption with fewer than K
  nouns fills the remaining rows with the caption itself).

Noun extraction needs no NLTK data: ``ExtractNouns`` looks words up in the packaged list
``nouns.txt`` (see its header for how it was built) with a few tagging rules (colour words,
adjectives and function words are never nouns; plural forms are singularised; a colour noun such
as "orange" directly before another noun is read as an adjective).
"""
import re
import zlib
from typing import Optional, Sequence

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer
from mmgen_vision.utils.image_io import decode_image_bytes, read_image_bytes
from .nouns import NOUN_FILE, NounTagger, load_noun_list

# 80 prompt templates in the "a photo of a {}." family (our own phrasings).
PROMPT_TEMPLATES = (
    'a photo of a {}.',
    'a photograph of a {}.',
    'a picture of a {}.',
    'an image of a {}.',
    'a snapshot of a {}.',
    'a photo of the {}.',
    'a picture of the {}.',
    'an image of the {}.',
    'a close-up photo of a {}.',
    'a close-up photo of the {}.',
    'a zoomed-in picture of a {}.',
    'a distant photo of a {}.',
    'a wide shot of a {}.',
    'a bright photo of a {}.',
    'a dark photo of a {}.',
    'a dim photo of the {}.',
    'a blurry photo of a {}.',
    'a sharp photo of a {}.',
    'a grainy photo of a {}.',
    'a low resolution photo of a {}.',
    'a high resolution photo of a {}.',
    'a pixelated picture of a {}.',
    'a jpeg-compressed photo of a {}.',
    'a cropped photo of a {}.',
    'a badly framed photo of a {}.',
    'a well lit photo of a {}.',
    'an overexposed photo of a {}.',
    'an underexposed photo of a {}.',
    'a black and white photo of a {}.',
    'a sepia photo of a {}.',
    'a colourful photo of a {}.',
    'a faded photo of a {}.',
    'an old photo of a {}.',
    'a vintage photograph of a {}.',
    'a recent photo of a {}.',
    'a candid photo of a {}.',
    'a professional photo of a {}.',
    'an amateur photo of a {}.',
    'a stock photo of a {}.',
    'a phone photo of a {}.',
    'a photo of a small {}.',
    'a photo of a large {}.',
    'a photo of a big {}.',
    'a photo of a tiny {}.',
    'a photo of one {}.',
    'a photo of a single {}.',
    'a photo of my {}.',
    'a photo of someone\'s {}.',
    'a photo of a nice {}.',
    'a photo of a strange {}.',
    'a photo of a clean {}.',
    'a photo of a dirty {}.',
    'a photo showing a {}.',
    'a photo that contains a {}.',
    'a photo with a {} in it.',
    'a scene with a {}.',
    'a scene containing the {}.',
    'there is a {} in this photo.',
    'there is a {} in the picture.',
    'this is a photo of a {}.',
    'this picture shows a {}.',
    'this image contains a {}.',
    'a {} in the photo.',
    'a {} in the scene.',
    'a {} seen from above.',
    'a {} seen from the side.',
    'a {} in the foreground.',
    'a {} in the background.',
    'a {} outdoors.',
    'a {} indoors.',
    'a drawing of a {}.',
    'a sketch of a {}.',
    'a painting of a {}.',
    'a rendering of a {}.',
    'a 3d render of a {}.',
    'a cartoon of a {}.',
    'an illustration of a {}.',
    'a toy {}.',
    'a plastic model of a {}.',
    'a video frame showing a {}.',
)
assert len(PROMPT_TEMPLATES) == 80 and len(set(PROMPT_TEMPLATES)) == 80

def _bytes_of(results: dict) -> bytes:
    if results.get('img_bytes') is not None:
        return results['img_bytes']
    if 'shard' in results and 'img_offset' in results:
        from mmgen_vision.datasets.image_text import read_bytes
        return read_bytes(results['shard'], results['img_offset'], results['img_size'])
    return read_image_bytes(results['img_path'])


def _where(results: dict) -> str:
    if 'shard' in results:
        return f'sample {results.get("key")!r} ({results.get("img_member")}) of shard ' \
               f'{results["shard"]}'
    return str(results.get('img_path', 'the encoded `img_bytes`'))


@TRANSFORMS.register_module()
class LoadImageFromShard(BaseTransform):
    """Decode the image of an image-text sample.

    Works on the data infos of ``ImageTextShardDataset`` (reads ``img_size`` bytes at
    ``img_offset`` of the tar ``shard``), of ``ImageTextListDataset`` (reads the file
    ``img_path``) and on results that already carry the encoded ``img_bytes``.

    Required keys: ``shard``, ``img_offset``, ``img_size`` or ``img_path`` or ``img_bytes``.
    Added keys: ``img`` (``(H, W, 3)``), ``img_shape``, ``ori_shape``.

    Args:
        to_float32 (bool): Convert the image to float32. Defaults to False (uint8).
        color_type (str): ``mmcv.imfrombytes`` flag. Defaults to ``'color'``.
        channel_order (str): ``'bgr'`` (mmcv's convention, default) or ``'rgb'``.
        imdecode_backend (str): ``mmcv`` decoding backend. Defaults to ``'cv2'``.

    Raises:
        ImageReadError: The image is missing, empty, not an image, truncated or in a mode the
            decoder cannot read; the message names the shard and the key (or the file).
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 channel_order: str = 'bgr',
                 imdecode_backend: str = 'cv2') -> None:
        self.to_float32 = to_float32
        self.color_type = color_type
        self.channel_order = channel_order
        self.imdecode_backend = imdecode_backend

    def transform(self, results: dict) -> dict:
        data = _bytes_of(results)
        img = decode_image_bytes(data, _where(results), flag=self.color_type,
                                 channel_order=self.channel_order, backend=self.imdecode_backend)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2) if self.color_type == 'color' else img
        if self.to_float32:
            img = img.astype(np.float32)
        results.pop('img_bytes', None)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, channel_order={self.channel_order!r}, '
                f'imdecode_backend={self.imdecode_backend!r})')


def noun_id(noun: str) -> int:
    """A stable non-negative integer identity of a noun (CRC-32 of its lower-cased UTF-8),
    the same in every process and run, so that noun identities can be compared across a
    (gathered) batch as tensors."""
    return zlib.crc32(noun.strip().lower().encode('utf-8'))


@TRANSFORMS.register_module()
class ExtractNouns(BaseTransform):
    """Draw K nouns of the caption for GroupViT's multi-label contrastive loss.

    The nouns are found by :class:`NounTagger` (packaged noun list, no NLTK data). Up to
    ``num_nouns`` distinct nouns are sampled at random (without replacement); when the caption
    has fewer, the caption itself fills the remaining slots.

    Required keys: ``text``.
    Added keys: ``nouns`` (the sampled nouns, at most K), ``multi_label_texts`` (K texts: the
    nouns then copies of the caption), ``multi_label_is_noun`` (K bools; ``PromptNouns``
    puts only the nouns into templates), and the noun identities that GroupViT's
    ``multi_label_same_noun_positive`` needs: ``multi_label_noun_ids`` (K ints, the
    :func:`noun_id` of each sampled noun, -1 for caption fillers) and ``caption_noun_ids``
    (the :func:`noun_id` of every distinct noun of the caption, right-padded with -1 to
    ``max_caption_nouns``).

    Args:
        num_nouns (int): K. Defaults to 3.
        noun_file (str, optional): A custom noun list (one word per line). Defaults to the
            packaged ``nouns.txt``.
        text_key (str): Key of the caption. Defaults to ``'text'``.
        max_caption_nouns (int): Length of ``caption_noun_ids`` (nouns beyond it are
            dropped). Defaults to 16.
    """

    def __init__(self,
                 num_nouns: int = 3,
                 noun_file: Optional[str] = None,
                 text_key: str = 'text',
                 max_caption_nouns: int = 16) -> None:
        if num_nouns < 1:
            raise ValueError(f'num_nouns must be >= 1, got {num_nouns}')
        self.num_nouns = num_nouns
        self.noun_file = noun_file or NOUN_FILE
        self.text_key = text_key
        self.max_caption_nouns = max_caption_nouns
        self.tagger = NounTagger(load_noun_list(self.noun_file))

    def transform(self, results: dict) -> dict:
        text = results[self.text_key]
        all_nouns = self.tagger(text)
        nouns = all_nouns
        if len(nouns) > self.num_nouns:
            picked = np.random.choice(len(nouns), self.num_nouns, replace=False)
            nouns = [nouns[i] for i in picked]
        fill = self.num_nouns - len(nouns)
        results['nouns'] = nouns
        results['multi_label_texts'] = nouns + [text] * fill
        results['multi_label_is_noun'] = [True] * len(nouns) + [False] * fill
        results['multi_label_noun_ids'] = [noun_id(n) for n in nouns] + [-1] * fill
        caption_ids = [noun_id(n) for n in dict.fromkeys(all_nouns)][:self.max_caption_nouns]
        results['caption_noun_ids'] = caption_ids + [-1] * (self.max_caption_nouns -
                                                            len(caption_ids))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_nouns={self.num_nouns}, '
                f'noun_file={self.noun_file!r})')


@TRANSFORMS.register_module()
class PromptNouns(BaseTransform):
    """Put each extracted noun into a randomly drawn prompt template.

    Required keys: ``multi_label_texts`` (and ``multi_label_is_noun`` when present: only those
    entries are prompted; caption fillers stay as they are). The article of ``'a {}'`` becomes
    ``'an'`` before a vowel.
    Modified keys: ``multi_label_texts``.

    Args:
        templates (Sequence[str], optional): Templates with one ``{}``. Defaults to the 80
            ``PROMPT_TEMPLATES`` of the "a photo of a {}." family.
    """

    def __init__(self, templates: Optional[Sequence[str]] = None) -> None:
        templates = tuple(templates) if templates is not None else PROMPT_TEMPLATES
        if not templates:
            raise ValueError('templates is empty')
        for template in templates:
            if template.count('{}') != 1:
                raise ValueError(f'a template needs exactly one {{}}, got {template!r}')
        self.templates = templates

    def transform(self, results: dict) -> dict:
        texts = results['multi_label_texts']
        is_noun = results.get('multi_label_is_noun', [True] * len(texts))
        out = []
        for text, noun in zip(texts, is_noun):
            if noun:
                template = self.templates[np.random.randint(len(self.templates))]
                if text and text[0] in 'aeiou' and re.search(r'\ba \{\}', template):
                    template = re.sub(r'\ba \{\}', 'an {}', template)  # "an apple"
                text = template.format(text)
            out.append(text)
        results['multi_label_texts'] = out
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_templates={len(self.templates)})'


@TRANSFORMS.register_module()
class TokenizeText(BaseTransform):
    """Tokenize the caption and the multi-label texts with CLIP's BPE.

    Required keys: ``text``; ``multi_label_texts`` (optional).
    Added keys: ``text_ids`` (``LongTensor (L,)``), ``multi_label_ids`` (``LongTensor (K, L)``).

    Args:
        context_length (int): L. Defaults to 77.
        pad_token (str): ``'zero'`` (GroupViT / OpenAI CLIP, default) or ``'eot'``.
        text_key (str): Key of the caption. Defaults to ``'text'``.
        multi_label_key (str): Key of the K texts. Defaults to ``'multi_label_texts'``.
    """

    def __init__(self,
                 context_length: int = 77,
                 pad_token: str = 'zero',
                 text_key: str = 'text',
                 multi_label_key: str = 'multi_label_texts') -> None:
        self.tokenizer = CLIPTokenizer(context_length=context_length, pad_token=pad_token)
        self.context_length = context_length
        self.pad_token = pad_token
        self.text_key = text_key
        self.multi_label_key = multi_label_key

    def transform(self, results: dict) -> dict:
        results['text_ids'] = self.tokenizer(results[self.text_key])[0]
        if results.get(self.multi_label_key) is not None:
            results['multi_label_ids'] = self.tokenizer(list(results[self.multi_label_key]))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(context_length={self.context_length}, '
                f'pad_token={self.pad_token!r})')


@TRANSFORMS.register_module()
class PackImageTextInputs(BaseTransform):
    """Pack an image-text sample into ``dict(inputs, data_samples)``.

    ``inputs`` is the image as a uint8 tensor ``(3, H, W)`` in the channel order it was loaded
    with (BGR by default; float images are rounded and clipped to 0-255). ``data_samples`` is a
    :class:`BaseDataElement` with the data fields ``text_ids``, ``multi_label_ids``,
    ``multi_label_noun_ids`` and ``caption_noun_ids`` (those present) and the metainfo of ``meta_keys`` found in the results.

    Args:
        meta_keys (Sequence[str]): Defaults to ``('img_path', 'text', 'nouns',
            'multi_label_texts', 'ori_shape', 'img_shape', 'sample_idx')``.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_path', 'text', 'nouns', 'multi_label_texts',
                                             'ori_shape', 'img_shape', 'sample_idx')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        if img.dtype != np.uint8:
            img = np.clip(np.round(img), 0, 255).astype(np.uint8)
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        data_sample = BaseDataElement()
        for key in ('text_ids', 'multi_label_ids', 'multi_label_noun_ids', 'caption_noun_ids'):
            if key in results:
                value = results[key]
                if not isinstance(value, torch.Tensor):
                    value = torch.as_tensor(np.asarray(value))
                data_sample.set_field(value.long(), key)
        data_sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'


@TRANSFORMS.register_module()
class RandomResizedCropImage(BaseTransform):
    """Crop a random region of random area and aspect ratio and resize it to ``size``.

    The Inception-style crop of CLIP / GroupViT pre-training, for images only: up to 10 tries
    draw an area fraction from ``scale`` and a log-uniform aspect ratio from ``ratio``; if none
    fits, the largest centred crop with a ratio inside ``ratio`` is used.

    Required keys: ``img``. Modified keys: ``img``, ``img_shape``.

    Args:
        size (int | tuple[int, int]): Output ``(height, width)`` (an int gives a square).
        scale (tuple[float, float]): Range of the crop area relative to the image.
            Defaults to (0.08, 1.0).
        ratio (tuple[float, float]): Range of the crop's width / height. Defaults to
            (3/4, 4/3).
        interpolation (str): ``mmcv.imresize`` interpolation. Defaults to ``'bicubic'``.
    """

    def __init__(self,
                 size,
                 scale=(0.08, 1.0),
                 ratio=(3. / 4., 4. / 3.),
                 interpolation: str = 'bicubic') -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        if not (0 < scale[0] <= scale[1] <= 1):
            raise ValueError(f'scale must satisfy 0 < min <= max <= 1, got {scale}')
        if not (0 < ratio[0] <= ratio[1]):
            raise ValueError(f'ratio must satisfy 0 < min <= max, got {ratio}')
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.interpolation = interpolation

    def crop_box(self, height: int, width: int):
        """Return ``(top, left, crop_height, crop_width)``."""
        area = height * width
        log_ratio = np.log(self.ratio)
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            aspect = float(np.exp(np.random.uniform(*log_ratio)))
            w = int(round(np.sqrt(target * aspect)))
            h = int(round(np.sqrt(target / aspect)))
            if 0 < w <= width and 0 < h <= height:
                top = np.random.randint(0, height - h + 1)
                left = np.random.randint(0, width - w + 1)
                return int(top), int(left), h, w
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            h, w = height, int(round(height * self.ratio[1]))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, h, w = self.crop_box(*img.shape[:2])
        crop = img[top:top + h, left:left + w]
        img = mmcv.imresize(crop, (self.size[1], self.size[0]), interpolation=self.interpolation)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, interpolation={self.interpolation!r})')
