# Copyright (c) mmgen_vision contributors. All rights reserved.
from .shapesworld import SHAPESWORLD_META, generate_shapesworld
from .image_text import ImageTextListDataset, ImageTextShardDataset
from .refcoco_seg import RefCocoSegDataset
from .shapesworld_dataset import ShapesWorldSegDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SHAPESWORLD_META', 'generate_shapesworld', 'ImageTextListDataset', 'ImageTextShardDataset',
    'RefCocoSegDataset', 'ShapesWorldSegDataset'
]
