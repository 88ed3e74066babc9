# Copyright (c) mmgen_vision contributors. All rights reserved.
from .shapesworld import SHAPESWORLD_META, generate_shapesworld
from .shapesworld_dataset import ShapesWorldSegDataset

__all__ = ['SHAPESWORLD_META', 'generate_shapesworld', 'ShapesWorldSegDataset']
