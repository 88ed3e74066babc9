# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Visualizers the stock ones cannot do (in-context canvases, group maps, alpha masks)."""
from .overlay import colorize_label_map, default_palette, overlay_label_map

__all__ = ['colorize_label_map', 'default_palette', 'overlay_label_map']
