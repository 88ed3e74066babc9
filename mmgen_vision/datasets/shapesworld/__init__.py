# Copyright (c) mmgen_vision contributors. All rights reserved.
"""ShapesWorld: deterministic synthetic scenes written in real on-disk dataset layouts.

See ``docs/shapesworld.md`` for the layouts and how the stock OpenMMLab datasets read them.
"""
from .encoding import rgb_to_id, rle_encode
from .generate import check_formats, dataset_roots, generate_shapesworld
from .language import make_captions, referring_expressions
from .meta import (CATEGORY_IDS, CLASSES, FORMATS, SHAPESWORLD_META, SHAPESWORLD_VERSION,
                   STUFF_CLASSES, THING_CLASSES)
from .scene import Camera, Scene, SceneObject, render_scene
from .writers import SceneRecord, format_root

__all__ = [
    'generate_shapesworld', 'SHAPESWORLD_META', 'SHAPESWORLD_VERSION', 'FORMATS', 'CLASSES',
    'THING_CLASSES', 'STUFF_CLASSES', 'CATEGORY_IDS', 'render_scene', 'Scene', 'SceneObject',
    'Camera', 'SceneRecord', 'make_captions', 'referring_expressions', 'rle_encode', 'rgb_to_id',
    'check_formats', 'dataset_roots', 'format_root'
]
