# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Visualizers the stock ones cannot do (in-context canvases, group maps, alpha masks)."""
from .overlay import colorize_label_map, default_palette, overlay_label_map
from .referring_visualizer import ReferringSegLocalVisualizer
from .text import draw_text, drawable_text, text_band, text_size

__all__ = [
    'colorize_label_map', 'default_palette', 'overlay_label_map', 'ReferringSegLocalVisualizer',
    'draw_text', 'drawable_text', 'text_band', 'text_size'
]
