# Copyright (c) mmgen_vision contributors. All rights reserved.
"""One image reader for every entry point: Inferencers, demos, datasets, transforms, converters.

Every failure is an :class:`ImageReadError` that names the file and the cause, one of
:data:`REASONS`:

========================  ===================================================================
``'missing'``             no such file (also a :class:`FileNotFoundError`)
``'not a file'``          the path is a folder (or another non-regular file)
``'unreadable'``          the file exists but cannot be opened (permissions, I/O error)
``'empty'``               the file (or array) holds no data
``'not an image'``        the bytes are not in any image format the decoder knows (e.g. a text
                          file named ``.jpg``)
``'truncated'``           a JPEG without its end-of-image marker after the last scan, a PNG
                          without its ``IEND`` chunk, a WebP / BMP shorter than its header says
``'unreadable mode'``     a recognised format the decoder cannot turn into the requested image
                          (unsupported bit depth or compression), or an array whose dtype,
                          value range or shape is not an image
========================  ===================================================================

Files are decoded with the same call as the stock ``LoadImageFromFile`` (``mmcv.imfrombytes``,
cv2 backend by default), so a valid image gives exactly the pixels it gave before: only the
failures change. Truncation is checked on the bytes (end markers) before decoding, so that it is
named as such: depending on its version and on where the file is cut, cv2 returns nothing or
fills the missing rows with grey.

Arrays passed in memory are normalised explicitly by :func:`image_array_to_uint8`:

* ``uint8``: kept; ``bool``: ``True`` -> 255;
* ``uint16``: scaled by the range of the type, ``round(x * 255 / 65535)`` (never wrapped
  modulo 256 as ``astype(np.uint8)`` would);
* other integers: must lie in ``[0, 255]``;
* floats: ``[0, 1]`` when the maximum is at most 1 (scaled by 255), else ``[0, 255]``
  (rounded); anything outside ``[0, 255]``, NaN or inf is refused. A ``[0, 255]`` image whose
  brightest pixel is at most 1 is therefore read as ``[0, 1]``: pass ``uint8`` to be exact.
  The decision is logged (logger ``mmgen_vision.utils.image_io``, level INFO);
* ``(H, W)`` and ``(H, W, 1)`` grayscale: repeated to three channels;
* ``(H, W, 2)`` gray + alpha and ``(H, W, 4)`` colour + alpha: the alpha channel is dropped by
  default (``alpha='drop'``), which is what decoding the same PNG from a file gives (cv2's
  ``IMREAD_COLOR``), so a path and its array read the same; ``alpha='white'`` composites the
  colour over a white background instead.

An array is taken to be in the requested ``channel_order`` already (RGB arrays for Painter,
BGR arrays for the mmseg-style Inferencers): only its type and channels are normalised.
"""
import logging
import os
import os.path as osp
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

logger = logging.getLogger(__name__)

#: The causes an :class:`ImageReadError` can name.
REASONS = ('missing', 'not a file', 'unreadable', 'empty', 'not an image', 'truncated',
           'unreadable mode')

#: File name extensions taken as images when a folder is expanded (compared in lower case).
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm',
                  '.pbm', '.jp2')

PathOrArray = Union[str, os.PathLike, np.ndarray]


class ImageReadError(ValueError, OSError):
    """An image could not be read; the message names the source and the cause.

    It is a :class:`ValueError` (bad input data) and an :class:`OSError` (what PIL and the
    file-system raise for the same cases), so existing handlers of either keep working.

    Args:
        path (str): The file, or a description of the in-memory source (``'array 3'``,
            ``"sample 'k1' of shard a.tar"``).
        reason (str): One of :data:`REASONS`.
        detail (str): What exactly was found, e.g. the first bytes or the array's dtype.

    Attributes:
        path (str): As given.
        reason (str): As given.
        detail (str): As given.
    """

    def __init__(self, path: str, reason: str, detail: str = '') -> None:
        if reason not in REASONS:
            raise ValueError(f'unknown image-read reason {reason!r}; one of {REASONS}')
        self.path = str(path)
        self.reason = reason
        self.detail = detail
        message = f'cannot read image {self.path}: {reason}'
        super().__init__(f'{message} ({detail})' if detail else message)

    def __reduce__(self):
        # keep (path, reason, detail) through pickling (data loader workers, process pools)
        return type(self), (self.path, self.reason, self.detail)


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """:class:`ImageReadError` with reason ``'missing'``; also a :class:`FileNotFoundError`."""

    def __init__(self, path: str, reason: str = 'missing', detail: str = '') -> None:
        super().__init__(path, reason, detail)


# ------------------------------------------------------------------------- files -> bytes
def read_image_bytes(path: Union[str, os.PathLike]) -> bytes:
    """The bytes of a local image file.

    Raises:
        ImageReadError: ``'missing'``, ``'not a file'``, ``'unreadable'`` or ``'empty'``.
    """
    path = os.fspath(path)
    if not osp.exists(path):
        raise ImageNotFoundError(path, detail='no such file')
    if not osp.isfile(path):
        kind = 'a folder' if osp.isdir(path) else 'not a regular file'
        raise ImageReadError(path, 'not a file', kind)
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        raise ImageReadError(path, 'unreadable', err.strerror or str(err)) from err
    if not data:
        raise ImageReadError(path, 'empty', '0 bytes')
    return data


def fetch_image_bytes(path: Union[str, os.PathLike], backend_args: Optional[dict] = None) -> bytes:
    """The bytes of an image: a local file through :func:`read_image_bytes`, a URI
    (``s3://``, ``http://``, ...) or any path with ``backend_args`` through
    ``mmengine.fileio.get`` as the stock loaders fetch it.

    Raises:
        ImageReadError: A local file that is missing, not a file, unreadable or empty, or
            empty remote data.
    """
    path = os.fspath(path)
    if backend_args is None and '://' not in path:
        return read_image_bytes(path)
    from mmengine import fileio
    data = fileio.get(path, backend_args=backend_args)
    if not data:
        raise ImageReadError(path, 'empty', '0 bytes')
    return data


# ------------------------------------------------------------------------- bytes -> pixels
def sniff_image_format(data: bytes) -> Optional[str]:
    """The image format announced by the first bytes (``'jpeg'``, ``'png'``, ``'gif'``,
    ``'bmp'``, ``'tiff'``, ``'webp'``, ``'pnm'``, ``'jpeg2000'``), or None."""
    head = bytes(data[:16])
    if head.startswith(b'\xff\xd8\xff'):
        return 'jpeg'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'png'
    if head[:6] in (b'GIF87a', b'GIF89a'):
        return 'gif'
    if head.startswith(b'BM') and len(head) >= 6:
        return 'bmp'
    if head[:4] in (b'II*\x00', b'MM\x00*'):
        return 'tiff'
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'webp'
    if len(head) >= 3 and head[:1] == b'P' and head[1:2] in b'123456' and head[2:3].isspace():
        return 'pnm'
    if head.startswith(b'\x00\x00\x00\x0cjP  ') or head.startswith(b'\xff\x4f\xff\x51'):
        return 'jpeg2000'
    return None


def truncation(data: bytes, fmt: Optional[str]) -> Optional[str]:
    """Why ``data`` of format ``fmt`` is cut short, or None when its end looks complete.

    JPEG: the end-of-image marker ``FFD9`` must follow the last start-of-scan ``FFDA`` (neither
    can occur inside entropy-coded data, where ``FF`` is always stuffed), so trailing data after
    a complete image is accepted. PNG: the ``IEND`` chunk must be present. WebP and BMP: the size
    written in the header must fit in the file.
    """
    data = bytes(data)
    if fmt == 'jpeg':
        last_scan = data.rfind(b'\xff\xda')
        if last_scan < 0:
            return 'no image data (no start-of-scan marker)'
        if data.find(b'\xff\xd9', last_scan) < 0:
            return f'no end-of-image marker after the last scan ({len(data)} bytes)'
    elif fmt == 'png':
        if data.rfind(b'IEND') < 0:
            return f'no IEND chunk ({len(data)} bytes)'
    elif fmt == 'webp':
        declared = int.from_bytes(data[4:8], 'little') + 8
        if len(data) < declared:
            return f'{len(data)} of the {declared} bytes its header declares'
    elif fmt == 'bmp':
        declared = int.from_bytes(data[2:6], 'little')
        if 0 < declared and len(data) < declared:
            return f'{len(data)} of the {declared} bytes its header declares'
    return None


def check_image_bytes(data: bytes, path: str) -> str:
    """Check encoded image data without decoding it: not empty, a known format
    (:func:`sniff_image_format`), not truncated. Returns the format.

    Cheap enough for converters that copy images unchanged; :func:`decode_image_bytes` also
    catches damage inside the data.

    Raises:
        ImageReadError: ``'empty'``, ``'not an image'`` or ``'truncated'``.
    """
    if data is None or len(data) == 0:
        raise ImageReadError(path, 'empty', '0 bytes')
    fmt = sniff_image_format(data)
    if fmt is None:
        raise ImageReadError(path, 'not an image', _describe_bytes(data))
    cut = truncation(data, fmt)
    if cut is not None:
        raise ImageReadError(path, 'truncated', f'{fmt}: {cut}')
    return fmt


def decode_image_bytes(data: bytes,
                       path: str,
                       flag: str = 'color',
                       channel_order: str = 'bgr',
                       backend: str = 'cv2') -> np.ndarray:
    """Decode an encoded image exactly as ``mmcv.imfrombytes`` does, or say why it cannot be.

    Args:
        data (bytes): The encoded image.
        path (str): Where the bytes come from (named by the error).
        flag (str): ``mmcv.imfrombytes`` flag (``'color'``, ``'grayscale'``, ``'unchanged'``,
            ...). Defaults to ``'color'``.
        channel_order (str): ``'bgr'`` (mmcv's convention, default) or ``'rgb'``.
        backend (str): ``mmcv`` decoding backend. Defaults to ``'cv2'``.

    Returns:
        np.ndarray: What ``mmcv.imfrombytes`` returns for valid data.

    Raises:
        ImageReadError: ``'empty'``, ``'not an image'``, ``'truncated'`` or
            ``'unreadable mode'``.
    """
    import mmcv
    if data is None or len(data) == 0:
        raise ImageReadError(path, 'empty', '0 bytes')
    fmt = sniff_image_format(data)
    cut = truncation(data, fmt)
    if cut is not None:
        raise ImageReadError(path, 'truncated', f'{fmt}: {cut}')
    try:
        img = mmcv.imfrombytes(data, flag=flag, channel_order=channel_order, backend=backend)
    except Exception as err:  # the decoders raise many types (cv2.error, OSError, ValueError)
        if fmt is None:
            raise ImageReadError(path, 'not an image', _describe_bytes(data)) from err
        raise ImageReadError(path, 'unreadable mode',
                             f'{fmt} that the {backend} decoder cannot read as {flag!r}: '
                             f'{type(err).__name__}: {err}') from err
    if img is None or img.size == 0:
        if fmt is None:
            raise ImageReadError(path, 'not an image', _describe_bytes(data))
        raise ImageReadError(path, 'unreadable mode',
                             f'{fmt} that the {backend} decoder cannot read as {flag!r} '
                             '(unsupported bit depth, compression or corrupt header)')
    return img


def _describe_bytes(data: bytes) -> str:
    return f'{len(data)} bytes starting with {bytes(data[:12])!r}, no known image format'


def read_image_file(path: Union[str, os.PathLike],
                    flag: str = 'color',
                    channel_order: str = 'bgr',
                    backend: str = 'cv2') -> np.ndarray:
    """Read a local image file like ``mmcv.imread(path, flag, channel_order, backend)``.

    Use it where the decoded array must keep the file's own type (e.g. ``flag='unchanged'``
    for uint16 depth PNGs); :func:`read_image` is the reader of colour images.

    Raises:
        ImageReadError: The message names ``path`` and one of :data:`REASONS`.
    """
    path = os.fspath(path)
    return decode_image_bytes(read_image_bytes(path), path, flag=flag,
                              channel_order=channel_order, backend=backend)


# ------------------------------------------------------------------------- arrays
def image_array_to_uint8(array: np.ndarray, name: str = 'array',
                         alpha: str = 'drop') -> np.ndarray:
    """A contiguous ``uint8 (H, W, 3)`` copy of an in-memory image (see the module docstring
    for the rules); the channel order is kept.

    Args:
        array (np.ndarray): ``(H, W)``, ``(H, W, 1)``, ``(H, W, 2)``, ``(H, W, 3)`` or
            ``(H, W, 4)`` of a bool, integer or float type.
        name (str): Names the array in errors. Defaults to ``'array'``.
        alpha (str): ``'drop'`` (default) or ``'white'`` (composite over white).

    Raises:
        ImageReadError: ``'empty'`` or ``'unreadable mode'`` (dtype, values or shape).
    """
    if alpha not in ('drop', 'white'):
        raise ValueError(f"alpha must be 'drop' or 'white', got {alpha!r}")
    arr = np.asarray(array)
    if arr.size == 0:
        raise ImageReadError(name, 'empty', f'shape {arr.shape}')
    if arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4) and arr.shape[0] in (1, 3, 4):
        raise ImageReadError(name, 'unreadable mode',
                             f'shape {arr.shape} looks channel-first: give (H, W, C)')
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise ImageReadError(name, 'unreadable mode',
                             f'shape {arr.shape}: give (H, W) or (H, W, C) with C in 1..4')
    if arr.ndim == 2:
        arr = arr[..., None]
    unit = _to_unit_range(arr, name)  # float32 in [0, 1], or None for uint8 (kept exactly)
    if arr.shape[2] in (2, 4):  # colour + alpha
        if alpha == 'white':
            if unit is None:
                unit = arr.astype(np.float32) / 255.0
            opacity = unit[..., -1:]
            unit = unit[..., :-1] * opacity + (1.0 - opacity)
        elif unit is None:
            arr = arr[..., :-1]
        else:
            unit = unit[..., :-1]
    img = arr if unit is None else np.clip(np.rint(unit * 255.0), 0, 255).astype(np.uint8)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img, dtype=np.uint8)


def _to_unit_range(arr: np.ndarray, name: str) -> Optional[np.ndarray]:
    """None for uint8 (kept exactly), else the image as float32 in ``[0, 1]``."""
    dtype = arr.dtype
    if dtype == np.uint8:
        return None
    if dtype == np.bool_:
        return arr.astype(np.float32)
    if dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(dtype, np.integer):
        low, high = int(arr.min()), int(arr.max())
        if low < 0 or high > 255:
            raise ImageReadError(name, 'unreadable mode',
                                 f'{dtype} values in [{low}, {high}]: integer images other '
                                 'than uint16 must lie in [0, 255]')
        return arr.astype(np.float32) / 255.0
    if np.issubdtype(dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ImageReadError(name, 'unreadable mode', f'{dtype} array holds NaN or inf')
        low, high = float(arr.min()), float(arr.max())
        if low < 0 or high > 255:
            raise ImageReadError(name, 'unreadable mode',
                                 f'{dtype} values in [{low:g}, {high:g}]: float images must '
                                 'lie in [0, 1] or [0, 255]')
        if high <= 1.0:
            logger.info('%s: %s values in [%g, %g] read as the range [0, 1]', name, dtype, low,
                        high)
            return arr.astype(np.float32)
        logger.info('%s: %s values in [%g, %g] read as the range [0, 255]', name, dtype, low,
                    high)
        return arr.astype(np.float32) / 255.0
    raise ImageReadError(name, 'unreadable mode', f'dtype {dtype} is not an image type')


# ------------------------------------------------------------------------- the reader
def read_image(source: PathOrArray, channel_order: str = 'rgb', alpha: str = 'drop',
               name: Optional[str] = None) -> np.ndarray:
    """Read an image file or normalise an in-memory array: ``uint8 (H, W, 3)``.

    Args:
        source (str | os.PathLike | np.ndarray): A local file (any format the cv2 decoder
            reads; decoded as colour, so grayscale files give three equal channels, an alpha
            channel is dropped and 16-bit files keep their high byte) or an array in
            ``channel_order`` (see :func:`image_array_to_uint8`; uint16 arrays are rounded,
            ``round(x / 257)``, so they may differ by 1 from the same 16-bit file).
        channel_order (str): ``'rgb'`` (default) or ``'bgr'``, the order of the result.
        alpha (str): Arrays with an alpha channel: ``'drop'`` (default) or ``'white'``.
        name (str, optional): Names an array in errors. Defaults to ``'array'``.

    Returns:
        np.ndarray: Contiguous ``uint8 (H, W, 3)``. For a file, the pixels of
        ``mmcv.imread(path, channel_order=channel_order)``.

    Raises:
        ImageReadError: Naming the path (or ``name``) and one of :data:`REASONS`.
        TypeError: ``source`` is neither a path nor an array.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if isinstance(source, (str, os.PathLike)):
        # cv2's colour decoding always gives uint8 (H, W, 3): 16-bit files are shifted to 8 bits,
        # grayscale repeated, alpha dropped
        return np.ascontiguousarray(
            read_image_file(source, flag='color', channel_order=channel_order))
    if isinstance(source, np.ndarray):
        return image_array_to_uint8(source, name or 'array', alpha=alpha)
    raise TypeError(f'an image is a file path or a numpy array, got {type(source).__name__}')


def expand_image_inputs(items: Iterable[PathOrArray],
                        extensions: Tuple[str, ...] = IMG_EXTENSIONS) -> List[PathOrArray]:
    """Replace every folder among ``items`` by its image files (sorted, not recursive, by
    extension, hidden files skipped); other items (files, missing paths, arrays) are kept in
    place, so that a missing path is reported by the reader instead of vanishing.
    """
    out: List[PathOrArray] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)) and osp.isdir(item):
            folder = os.fspath(item)
            out.extend(
                osp.join(folder, n) for n in sorted(os.listdir(folder))
                if not n.startswith('.') and n.lower().endswith(extensions)
                and not osp.isdir(osp.join(folder, n)))
        else:
            out.append(item)
    return out


def failure_report(failures: Sequence[ImageReadError], total: int) -> str:
    """One line per image that could not be read (``path: reason (detail)``) under a count,
    what the demos print when they exit non-zero."""
    lines = [f'{len(failures)} of {total} images could not be read:']
    lines += [f'  {err.path}: {err.reason}' + (f' ({err.detail})' if err.detail else '')
              for err in failures]
    return '\n'.join(lines)
