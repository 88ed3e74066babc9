# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Deterministic encoders: JPEG/PNG bytes, COCO RLE, panoptic ids, compact JSON and tar members.

The RLE encoder is a pure-Python implementation of the COCO compressed format, so annotation files
are byte-identical whether or not ``pycocotools`` is installed (the tests check it against
``pycocotools.mask.encode``).
"""
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

from mmgen_vision.utils.panoptic import id_to_rgb, rgb_to_id  # noqa: F401  (re-exported)

JPEG_QUALITY = 95


def _pil():
    """Import Pillow lazily with an actionable message."""
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - pillow is a runtime requirement
        raise ImportError('ShapesWorld needs Pillow to write images: pip install pillow') from err
    return Image


def jpeg_bytes(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """Encode an RGB uint8 image of shape (H, W, 3) as baseline JPEG (4:4:4, no metadata)."""
    buf = io.BytesIO()
    img = _pil().fromarray(np.ascontiguousarray(image, np.uint8))
    img.save(buf, format='JPEG', quality=quality, subsampling=0)
    return buf.getvalue()


def png_bytes(array: np.ndarray, palette: Union[np.ndarray, None] = None) -> bytes:
    """Encode an array as PNG.

    Args:
        array (np.ndarray): uint8 (H, W, 3) for RGB, uint8 (H, W) for grey or palette indices,
            uint16 (H, W) for 16-bit grey.
        palette (np.ndarray, optional): (256, 3) uint8 colour table; makes a mode ``'P'`` PNG.

    Returns:
        bytes: The PNG file content.
    """
    Image = _pil()
    if palette is not None:
        h, w = array.shape
        img = Image.frombytes('P', (w, h), np.ascontiguousarray(array, np.uint8).tobytes())
        img.putpalette(np.asarray(palette, np.uint8).reshape(-1).tolist())
    else:
        # uint8 (H, W, 3) -> 'RGB', uint8 (H, W) -> 'L', uint16 (H, W) -> 'I;16'
        img = Image.fromarray(np.ascontiguousarray(array))
    buf = io.BytesIO()
    img.save(buf, format='PNG')
    return buf.getvalue()


def voc_colormap(num: int = 256) -> np.ndarray:
    """The PASCAL VOC colour table: bits of the label spread over the high bits of R, G, B.

    Returns:
        np.ndarray: uint8 array of shape (num, 3); entry 255 is the void colour (224, 224, 192).
    """
    cmap = np.zeros((num, 3), dtype=np.uint8)
    for label in range(num):
        r = g = b = 0
        value = label
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        cmap[label] = (r, g, b)
    return cmap


def rle_counts(mask: np.ndarray) -> List[int]:
    """Run lengths of a binary mask in column-major order, starting with a run of zeros."""
    flat = np.asarray(mask, dtype=bool).ravel(order='F')
    if flat.size == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    return ([0] + counts) if flat[0] else counts


def rle_string(counts: List[int]) -> str:
    """COCO's compressed RLE string: deltas against the count two back, 5-bit chunks + 48."""
    chars = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return ''.join(chars)


def rle_encode(mask: np.ndarray) -> Dict[str, Any]:
    """COCO compressed RLE of a (H, W) binary mask: ``{'size': [H, W], 'counts': str}``."""
    h, w = mask.shape
    return {'size': [int(h), int(w)], 'counts': rle_string(rle_counts(mask))}


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, creating the parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def dump_json(obj: Any, path: Path) -> None:
    """Write compact JSON (like the COCO files), creating the parent folders."""
    write_bytes(path, json.dumps(obj, separators=(',', ':')).encode('utf-8'))


def add_tar_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a regular file with fixed metadata (mtime 0, root owner, mode 0644) to ``tar``."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    tar.addfile(info, io.BytesIO(data))
