# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter's prompt pair from files or a dataset: an image + its target, encoded by the task's
codec (a raw index mask is encoded, an already-encoded painting is detected and kept)."""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mmgen_vision.registry import DATASETS, TASK_UTILS
from mmgen_vision.utils.image_io import decode_image_bytes, fetch_image_bytes


def resize_array(arr: np.ndarray, size: Tuple[int, int], mode: str) -> np.ndarray:
    """``(H, W, C)`` -> ``(h, w, C)`` with cv2 (``size = (h, w)``)."""
    interp = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR,
              'bicubic': cv2.INTER_CUBIC}[mode]
    out = cv2.resize(arr, (size[1], size[0]), interpolation=interp)
    return out.reshape(size[0], size[1], -1) if out.ndim == 2 else out


def loaded_rgb(results: dict) -> np.ndarray:
    """The RGB image a loading pipeline put in ``results['img']`` (mmcv loads BGR)."""
    img = results.get('img')
    if img is None:
        raise KeyError(f'sample {results.get("img_path", "?")} has no `img`: the wrapped '
                       'dataset pipeline must load the image')
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., ::-1])  # mmcv loads BGR


def read_prompt_target(path: str) -> np.ndarray:
    """A prompt target file as stored: ``(H, W)`` for grey and palette images (a palette PNG
    gives its indices, not its colours), ``(H, W, 3)`` RGB for colour ones.

    Raises:
        ImageReadError: The file is missing, empty, not an image or truncated.
    """
    raw = decode_image_bytes(fetch_image_bytes(path), path, flag='unchanged', backend='pillow')
    if raw.ndim == 3:  # mmcv's pillow 'unchanged' read is BGR(A) whatever channel_order says
        raw = np.ascontiguousarray(raw[..., 2::-1])
    return raw


def encode_prompt_target(target: np.ndarray, codec, source: str = 'prompt target'
                         ) -> Tuple[np.ndarray, str]:
    """Turn a prompt target as read from disk into the painting the model expects.

    A prompt target may be an already-encoded painting (what the model paints, e.g. the colours
    of a ``SemanticCodec``) or, for a semantic codec, a raw label mask: a single-channel (grey
    or palette) image, or an RGB image with three equal channels, holding class indices
    ``0..K-1`` and 255 for unlabelled. Read as a painting, such a mask is nearly black and the
    model is prompted with nonsense; it is detected and encoded with ``codec`` instead. An RGB
    image whose colours are all palette colours (or black) is a painting.

    Args:
        target (np.ndarray): ``(H, W)`` or ``(H, W, 3)`` (RGB) uint8 image, read unchanged.
        codec: The task's codec (built).
        source (str): Path or name, for the messages.

    Returns:
        tuple[np.ndarray, str]: ``uint8 (H, W, 3)`` RGB painting, and how it was obtained
        (``'encoded from a label mask by SemanticCodec(num_classes=5)'`` or ``'an encoded
        painting, used as is'``).

    Raises:
        ValueError: A single-channel target for a semantic codec holds values that are no class
            index (nor 255).
    """
    target = np.asarray(target)
    if target.ndim == 3 and target.shape[2] == 4:
        target = target[..., :3]
    name = type(codec).__name__
    palette = getattr(codec, 'palette', None)
    num_classes = getattr(codec, 'num_classes', None)
    if palette is None or num_classes is None:  # not a label codec: the target is a painting
        if target.ndim == 2:
            target = np.repeat(target[..., None], 3, axis=2)
        return target.astype(np.uint8), f'an encoded painting for {name}, used as is'
    described = f'{name}(num_classes={num_classes})'
    if target.ndim == 3:
        colours = np.unique(target.reshape(-1, 3), axis=0)
        known = {tuple(c) for c in np.asarray(palette).tolist()} | {(0, 0, 0)}
        if all(tuple(c) in known for c in colours.tolist()):
            return target.astype(np.uint8), f'an encoded painting of {described}, used as is'
        if not (np.array_equal(target[..., 0], target[..., 1])
                and np.array_equal(target[..., 0], target[..., 2])):
            return target.astype(np.uint8), (
                f'an encoded painting of {described}, used as is ({len(colours)} colours, '
                'not all of them palette colours: resized or compressed?)')
        target = target[..., 0]  # a label mask saved as RGB
    labels = target.astype(np.int64)
    values = np.unique(labels)
    bad = [int(v) for v in values if v >= num_classes and v != 255]
    if bad:
        raise ValueError(
            f'{source}: a single-channel prompt target is read as a label mask, but it holds '
            f'values {bad[:8]} that are no class of {described} (0..{num_classes - 1}, 255 = '
            'unlabelled). Give the matching codec num_classes or an encoded RGB painting.')
    painting, _ = codec.encode(dict(gt_seg_map=labels))
    return painting, f'encoded from a label mask by {described}'


def load_prompt_pair(codec, img_size: Sequence[int], dataset: Optional[Union[dict, Dataset]] = None,
                     index: int = 0, img_path: Optional[str] = None,
                     target_path: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray, str]:
    """A prompt pair resized to ``img_size`` ``(h, w)``: ``uint8 (h, w, 3)`` RGB image and target.

    Either sample ``index`` of ``dataset`` (a stock dataset with a LOADING pipeline; its ground
    truth is encoded with ``codec``), or an image file and a target file: an encoded painting,
    or for a semantic codec a label mask, which is encoded with ``codec`` (see
    :func:`encode_prompt_target`; the log says which it was).

    Returns:
        tuple: image, target, and the source (path) of the prompt.
    """
    codec = TASK_UTILS.build(codec) if isinstance(codec, dict) else codec
    if img_path is not None and target_path is not None:
        img = decode_image_bytes(fetch_image_bytes(img_path), img_path, channel_order='rgb')
        target, how = encode_prompt_target(read_prompt_target(target_path), codec, target_path)
        print_log(f'prompt target {target_path}: {how}', logger='current')
        source = img_path
    elif dataset is not None:
        ds = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        if not 0 <= index < len(ds):
            raise IndexError(f'prompt index {index} outside the prompt dataset '
                             f'({len(ds)} samples)')
        results = ds[index]
        target, _ = codec.encode(results)
        img = loaded_rgb(results)
        source = results.get('img_path', str(index))
    else:
        raise ValueError('prompt needs `dataset` (+ `index`) or `img_path` + `target_path`')
    size = tuple(img_size)
    return (resize_array(img, size, 'bicubic'), resize_array(target, size, codec.target_resize_mode),
            source)
