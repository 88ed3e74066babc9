# Copyright (c) mmgen_vision contributors. All rights reserved.
from .shapesworld import SHAPESWORLD_META, generate_shapesworld
from .glid_image_list import GLIDImageListDataset
from .image_text import ImageTextListDataset, ImageTextShardDataset
from .multi_source import MultiSourceBatchSampler, MultiSourceDataset, MultiSourceSampler
from .painter_pair import (PainterInContextDataset, PainterPairDataset,
                           PainterRestorationDataset)
from .refcoco_seg import RefCocoSegDataset
from .referring_list import ReferringListDataset
from .samplers import MultiTaskWeightedSampler
from .seg_folder import SegFolderDataset
from .xdecoder_caption import CocoCaptionDataset
from .shapesworld_dataset import ShapesWorldSegDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SHAPESWORLD_META', 'generate_shapesworld', 'ImageTextListDataset', 'ImageTextShardDataset',
    'RefCocoSegDataset', 'ShapesWorldSegDataset', 'GLIDImageListDataset'
]
__all__ += ['MultiSourceDataset', 'MultiSourceSampler', 'MultiSourceBatchSampler',
            'CocoCaptionDataset']
__all__ += ['PainterPairDataset', 'PainterInContextDataset', 'PainterRestorationDataset',
            'MultiTaskWeightedSampler']
__all__ += ['SegFolderDataset']
__all__ += ['ReferringListDataset']
