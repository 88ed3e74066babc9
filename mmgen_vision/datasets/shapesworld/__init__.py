# Copyright (c) mmgen_vision contributors. All rights reserved.
from .meta import SHAPESWORLD_META
from .scene import Scene, SceneObject, render_scene

generate_shapesworld = None

__all__ = ['SHAPESWORLD_META', 'Scene', 'SceneObject', 'render_scene', 'generate_shapesworld']
