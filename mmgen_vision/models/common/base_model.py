# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The one base of the models that no stock base class fits.

The task models are built on the stock bases wherever the data flow fits: mmseg
``BaseSegmentor`` (GLID semantic segmentation and depth, GroupViT's zero-shot segmentor, with
``EncoderDecoder.slide_inference``), mmdet ``BaseDetector`` (GLID detection and universal
segmentation). :class:`BaseTaskModel` is for the rest; each of them is a model whose parts are
not a backbone / neck / head that the stock bases build from their own registries:

- Painter and its prompt tuner: the inputs are a dict of stitched image / target canvases and
  predictions are decoded by per-task codecs, not a segmentor's or a detector's results;
- GLID pre-training: masked image modelling over a whole encoder-decoder queried per masked
  patch (mmpretrain's ``BaseSelfSupervisor`` builds a backbone + neck + head);
- GLID pose: mmpose's ``BasePoseEstimator`` builds ``backbone`` / ``head`` from mmpose's
  registry, while GLID's single encoder-decoder is shared by the queries of every task (the
  estimator still packs its results with ``TopdownPoseEstimator.add_pred_to_datasample``).
"""
from abc import abstractmethod
from typing import Any, Dict, List, Optional

from mmengine.model import BaseModel
from torch import Tensor

__all__ = ['BaseTaskModel']


class BaseTaskModel(BaseModel):
    """:class:`~mmengine.model.BaseModel` with the ``mode`` dispatch of the stock bases (mmseg
    ``BaseSegmentor``, mmdet ``BaseDetector``): ``'loss'`` -> :meth:`loss`, ``'predict'`` ->
    :meth:`predict`, ``'tensor'`` -> :meth:`_forward`.

    A subclass implements the three methods; see the module docstring for which models use it
    and why no stock base fits them.
    """

    def forward(self, inputs: Any, data_samples: Optional[list] = None, mode: str = 'tensor'):
        """The Runner's entry point.

        Args:
            inputs (Tensor | dict[str, Tensor]): The output of the data preprocessor, e.g.
                images ``(B, 3, H, W)`` or Painter's canvases ``dict(imgs, tgts, valid)``.
            data_samples (list, optional): One data sample per input.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

        Returns:
            dict[str, Tensor] | list | Tensor | tuple: The losses (``'loss'``), the data samples
            with their predictions (``'predict'``) or the raw network outputs (``'tensor'``).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}" for {type(self).__name__}: only supports '
                           'loss, predict and tensor mode')

    @abstractmethod
    def loss(self, inputs: Any, data_samples: Optional[list] = None) -> Dict[str, Tensor]:
        """The losses of a batch."""

    @abstractmethod
    def predict(self, inputs: Any, data_samples: Optional[list] = None) -> List[Any]:
        """The data samples with their predictions."""

    @abstractmethod
    def _forward(self, inputs: Any, data_samples: Optional[list] = None):
        """The raw network outputs (no post-processing)."""
