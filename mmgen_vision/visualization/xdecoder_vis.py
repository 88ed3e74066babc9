# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Drawing of X-Decoder results: masks with their names, a referring mask with its phrase, and
text bands (captions, retrieval rankings, VQA answers) under the image.

Text is drawn with :mod:`mmgen_vision.visualization.text` (DejaVu Sans through Pillow), not
``cv2.putText``, whose ASCII-only fonts turned every other character of a caption into ``??``.
"""
from typing import Optional, Sequence

import numpy as np

from .overlay import default_palette
from .text import draw_text, text_band, text_size


def _font_size(font_scale: float) -> int:
    """Pixel font size matching a ``cv2.FONT_HERSHEY_SIMPLEX`` scale (0.4 -> 12 px)."""
    return max(8, int(round(30 * font_scale)))


def _label_position(mask: np.ndarray) -> Optional[tuple]:
    """A point inside ``mask`` (the pixel closest to its centroid), or None if empty."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    k = np.argmin((ys - ys.mean())**2 + (xs - xs.mean())**2)
    return int(xs[k]), int(ys[k])


def draw_named_masks(image: np.ndarray, masks: np.ndarray, names: Sequence[str],
                     palette: Optional[Sequence[Sequence[int]]] = None, alpha: float = 0.5,
                     font_scale: float = 0.35) -> np.ndarray:
    """Blend each binary mask in its colour over an RGB image and write its name on it.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        masks (np.ndarray): ``(N, H, W)`` bool.
        names (Sequence[str]): ``N`` names (class names, phrases).
        palette: ``N`` RGB colours; a fixed random palette when None.
        alpha (float): Mask opacity. Defaults to 0.5.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 3 or masks.shape[1:] != image.shape[:2]:
        raise ValueError(f'masks {masks.shape} do not match the image {image.shape[:2]}')
    if len(names) != len(masks):
        raise ValueError(f'{len(names)} names for {len(masks)} masks')
    palette = np.asarray(palette if palette is not None else default_palette(max(len(masks), 1)),
                         dtype=np.float32).reshape(-1, 3)
    out = image.astype(np.float32)
    for i, mask in enumerate(masks):
        colour = palette[i % len(palette)]
        out[mask] = (1 - alpha) * out[mask] + alpha * colour
    out = out.round().clip(0, 255).astype(np.uint8)
    for i, (mask, name) in enumerate(zip(masks, names)):
        pos = _label_position(mask)
        if pos is None:
            continue
        colour = tuple(int(c) for c in palette[i % len(palette)])
        # ``pos`` is the text's bottom-left corner (as with cv2.putText)
        font_size = _font_size(font_scale)
        origin = (pos[0], pos[1] - text_size(str(name), font_size)[1])
        out = draw_text(out, str(name), origin, colour, font_size, outline=(0, 0, 0))
    return out


def draw_label_map(image: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                   palette: Optional[Sequence[Sequence[int]]] = None, alpha: float = 0.5,
                   ignore_index: int = 255) -> np.ndarray:
    """A semantic label map ``(H, W)`` drawn as one named mask per present class."""
    present = [c for c in np.unique(labels) if c != ignore_index and c < len(class_names)]
    masks = np.stack([labels == c for c in present]) if present else \
        np.zeros((0, ) + labels.shape, dtype=bool)
    colours = None
    if palette is not None:
        colours = [palette[c % len(palette)] for c in present]
    return draw_named_masks(image, masks, [class_names[c] for c in present], colours, alpha)


def add_text_band(image: np.ndarray, lines: Sequence[str], font_scale: float = 0.4,
                  line_height: int = 16) -> np.ndarray:
    """Append a white band with ``lines`` of black text under an RGB image (any script the
    font covers; a line wider than the image is cut with ``...``)."""
    band = text_band(image.shape[1], [str(line) for line in lines], _font_size(font_scale),
                     line_height=line_height)
    return np.concatenate([image, band], axis=0)


def draw_ranking(image: np.ndarray, texts: Sequence[str], scores: Sequence[float],
                 top: int = 5) -> np.ndarray:
    """Retrieval ranking of ``texts`` for the image, best first, with their scores."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64))[:top]
    lines = [f'{rank + 1}. {scores[i]:.2f} {texts[i]}' for rank, i in enumerate(order)]
    return add_text_band(image, lines)


__all__ = ['draw_named_masks', 'draw_label_map', 'add_text_band', 'draw_ranking']
