# Copyright (c) mmgen_vision contributors. All rights reserved.
import os.path as osp

from mmseg.datasets import BaseSegDataset

from mmgen_vision.registry import DATASETS
from .shapesworld import SHAPESWORLD_META


@DATASETS.register_module()
class ShapesWorldSegDataset(BaseSegDataset):
    """ShapesWorld semantic segmentation in the ADE20K layout.

    The files are exactly ADE20K's (``images/{training,validation}/*.jpg``,
    ``annotations/{training,validation}/*.png`` with 0 = unlabelled and classes stored as 1..K),
    so ``mmseg.ADE20KDataset`` reads them too; this class only carries ShapesWorld's class names
    and palette (ADE20K's 150 names are fixed in its ``METAINFO``).
    """
    METAINFO = dict(
        classes=tuple(SHAPESWORLD_META['classes']),
        palette=[list(c) for c in SHAPESWORLD_META['palette']])

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=True,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        """mmseg's label map, with an error that says what to use for classes of your own."""
        try:
            return super().get_label_map(new_classes)
        except ValueError as err:
            raise ValueError(
                f'{err} ShapesWorldSegDataset can only select or reorder its own classes '
                f"{cls.METAINFO['classes']}; for a dataset with classes of your own set "
                "train/val/test_dataloader.dataset.type='SegFolderDataset' (images/ + masks/, "
                "see docs/own_data.md) or 'mmseg.BaseSegDataset' with metainfo=dict(classes=...)."
            ) from err

    def load_data_list(self) -> list:
        """List image/annotation pairs and fail early, naming the file, if an annotation is
        missing (instead of a late error in the middle of training)."""
        data_list = super().load_data_list()
        for info in data_list:
            seg_map = info.get('seg_map_path')
            if seg_map is not None and not osp.isfile(seg_map):
                raise FileNotFoundError(
                    f'annotation {seg_map} of image {info["img_path"]} is missing')
        return data_list
