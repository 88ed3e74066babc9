# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Visualizer of referring segmentation: one picture per expression, the expression written
under it.

mmseg's ``SegVisualizationHook`` names a picture after its image file (``test_<image>``) and the
runner's iteration, which is the same for every sample of a test run. Referring data has several
expressions per image, so with ``mmseg.SegLocalVisualizer`` the picture of each expression
overwrote the previous one (the ShapesWorld RefCOCO split: 69 expressions, 16 pictures) and none
said which expression it showed. :class:`ReferringSegLocalVisualizer` appends the expression's id
to the picture name and draws the expression in a band under the masks (with
:mod:`mmgen_vision.visualization.text`, so accents and other non-ASCII characters survive).
"""
from typing import Optional

import mmcv
import numpy as np
from mmseg.visualization import SegLocalVisualizer

from mmgen_vision.registry import VISUALIZERS
from .text import text_band

ID_KEYS = ('sent_id', 'ref_id', 'ann_id')


@VISUALIZERS.register_module()
class ReferringSegLocalVisualizer(SegLocalVisualizer):
    """``mmseg.SegLocalVisualizer`` for referring segmentation (``RefCocoSegDataset`` samples).

    For every data sample the picture (ground-truth mask | predicted mask, as the stock
    visualizer draws them) gets

    * a unique name: ``<name>_<key><id>`` with the first of ``sent_id``, ``ref_id``, ``ann_id``
      found in the sample's metainfo (RefCOCO's ``sent_id`` identifies one expression), else
      ``<name>_expr<k>`` with ``k`` counting the pictures already drawn under ``name``;
    * a band under it with the expression (metainfo ``text_key``, by default ``'text'``).

    Args:
        name (str): Name of the visualizer instance. Defaults to ``'visualizer'``.
        text_key (str): Metainfo key of the expression. Defaults to ``'text'``.
        font_size (int): Font size of the expression, in pixels. Defaults to 12.
        **kwargs: The other ``mmseg.SegLocalVisualizer`` arguments (``vis_backends``,
            ``save_dir``, ``alpha``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 text_key: str = 'text',
                 font_size: int = 12,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.text_key = text_key
        self.font_size = font_size
        self._drawn_per_name = {}

    def picture_name(self, name: str, data_sample) -> str:
        """The unique name of the picture of one expression."""
        metainfo = data_sample.metainfo if data_sample is not None else {}
        for key in ID_KEYS:
            if metainfo.get(key) is not None:
                return f'{name}_{key}{metainfo[key]}'
        count = self._drawn_per_name.get(name, 0)
        self._drawn_per_name[name] = count + 1
        return f'{name}_expr{count}'

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw the ground-truth and predicted masks of one expression, write the expression
        under them and save / show the picture under its unique name.

        Arguments as ``mmseg.SegLocalVisualizer.add_datasample``.
        """
        classes = self.dataset_meta.get('classes', None)
        palette = self.dataset_meta.get('palette', None)
        panels = []
        if data_sample is not None:
            for draw, key in ((draw_gt, 'gt_sem_seg'), (draw_pred, 'pred_sem_seg')):
                if draw and key in data_sample:
                    if classes is None:
                        raise ValueError('ReferringSegLocalVisualizer needs the dataset classes '
                                         '(dataset_meta) to draw the masks')
                    panels.append(self._draw_sem_seg(image, data_sample.get(key), classes,
                                                     palette, with_labels))
        drawn = np.concatenate(panels, axis=1) if panels else np.ascontiguousarray(image)
        text = data_sample.metainfo.get(self.text_key) if data_sample is not None else None
        if text is not None:
            band = text_band(drawn.shape[1], [f'"{text}"'], font_size=self.font_size)
            drawn = np.concatenate([drawn, band], axis=0)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(self.picture_name(name, data_sample), drawn, step)
