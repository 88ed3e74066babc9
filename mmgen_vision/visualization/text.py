# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Text on pictures in any script the font covers.

OpenCV's ``cv2.putText`` only has the ASCII Hershey fonts: every other character (``é`` in a
generated caption, ``ü`` in a referring expression) comes out as ``??``. Text is drawn here with
Pillow and a TrueType font instead: DejaVu Sans, which matplotlib (a runtime requirement) ships
in ``matplotlib/mpl-data/fonts/ttf``. It covers Latin (with every accent), Greek, Cyrillic,
Armenian, Georgian, Hebrew, Arabic letters and most symbols, but not CJK: a character the font
lacks is replaced by its Unicode NFKD base letters when they are in the font (``ﬁ`` -> ``fi``),
else by ``?``, so what is drawn never silently becomes an empty box.
"""
import functools
import os.path as osp
import unicodedata
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Color = Tuple[int, int, int]


@functools.lru_cache(maxsize=None)
def default_font_path() -> str:
    """Path of the DejaVu Sans TrueType file bundled with matplotlib."""
    import matplotlib
    path = osp.join(matplotlib.get_data_path(), 'fonts', 'ttf', 'DejaVuSans.ttf')
    if not osp.isfile(path):
        raise FileNotFoundError(f'DejaVu Sans is not where matplotlib keeps it ({path})')
    return path


@functools.lru_cache(maxsize=None)
def _font(size: int, path: Optional[str] = None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path or default_font_path(), size)


@functools.lru_cache(maxsize=None)
def _covered_codepoints(path: Optional[str] = None) -> frozenset:
    """Code points with a glyph in the font (its cmap table)."""
    from fontTools.ttLib import TTFont  # a dependency of matplotlib
    with TTFont(path or default_font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable_text(text: str, font_path: Optional[str] = None) -> str:
    """``text`` with each character the font cannot draw replaced (NFKD base letters, else
    ``?``). White space of any kind becomes a plain space."""
    covered = _covered_codepoints(font_path)
    out = []
    for char in str(text):
        if char.isspace():
            out.append(' ')
        elif ord(char) in covered:
            out.append(char)
        else:
            base = ''.join(c for c in unicodedata.normalize('NFKD', char)
                           if ord(c) in covered and not unicodedata.combining(c))
            out.append(base or '?')
    return ''.join(out)


def text_size(text: str, font_size: int = 12, font_path: Optional[str] = None) -> Tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` drawn at ``font_size``."""
    left, top, right, bottom = _font(font_size, font_path).getbbox(drawable_text(text, font_path))
    return right - left, bottom - top


def draw_text(image: np.ndarray,
              text: str,
              origin: Tuple[int, int],
              color: Color = (0, 0, 0),
              font_size: int = 12,
              outline: Optional[Color] = None,
              font_path: Optional[str] = None) -> np.ndarray:
    """Draw one line of ``text`` on an RGB image.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB; not modified.
        text (str): The text, any script the font covers (see the module docstring).
        origin (tuple[int, int]): ``(x, y)`` of the text's top-left corner.
        color (tuple[int, int, int]): RGB colour. Defaults to black.
        font_size (int): Font size in pixels. Defaults to 12.
        outline (tuple[int, int, int], optional): RGB colour of a 1-pixel outline that keeps
            the text readable on any background. Defaults to None (no outline).
        font_path (str, optional): Another TrueType font. Defaults to DejaVu Sans.

    Returns:
        np.ndarray: A new ``(H, W, 3)`` uint8 RGB image with the text.
    """
    canvas = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(canvas)
    draw.text(tuple(int(v) for v in origin), drawable_text(text, font_path),
              fill=tuple(int(c) for c in color), font=_font(font_size, font_path),
              stroke_width=1 if outline is not None else 0,
              stroke_fill=tuple(int(c) for c in outline) if outline is not None else None)
    return np.asarray(canvas)


def text_band(width: int,
              lines: Sequence[str],
              font_size: int = 12,
              color: Color = (0, 0, 0),
              background: Color = (255, 255, 255),
              line_height: Optional[int] = None,
              font_path: Optional[str] = None) -> np.ndarray:
    """A ``(h, width, 3)`` uint8 RGB band holding ``lines``, one under the other.

    Lines longer than the band are cut (with ``...``) rather than wrapped, so the band height is
    ``len(lines) * line_height + 4`` whatever the text (``line_height`` defaults to
    ``font_size + 4``).
    """
    line_height = line_height or font_size + 4
    band = np.empty((line_height * len(lines) + 4, int(width), 3), dtype=np.uint8)
    band[:] = np.asarray(background, dtype=np.uint8)
    for i, line in enumerate(lines):
        line = drawable_text(line, font_path)
        if text_size(line, font_size, font_path)[0] > width - 6:
            while line and text_size(line + '...', font_size, font_path)[0] > width - 6:
                line = line[:-1]
            line += '...'
        band = draw_text(band, line, (3, 2 + i * line_height), color, font_size,
                         font_path=font_path)
    return band


__all__ = ['default_font_path', 'drawable_text', 'text_size', 'draw_text', 'text_band']
