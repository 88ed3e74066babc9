# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The part every GLID fine-tuning model shares: encoder-decoder, queries ``q_i = CLS + e_i``
and partial loading of the pre-trained weights.

Each task model adds the stock base of its data flow, which gives the ``forward(mode)``
dispatch and the packing of predictions: ``GLIDSegmentor`` / ``GLIDDepthEstimator`` are mmseg
``BaseSegmentor`` s, ``GLIDDetector`` / ``GLIDUniversalSegmentor`` mmdet ``BaseDetector`` s and
``GLIDPoseEstimator`` a :class:`~mmgen_vision.models.common.base_model.BaseTaskModel` (mmpose's
pose estimators build their own backbone and head).
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmgen_vision.models.common.batching import BatchInvariantMixin
from mmgen_vision.registry import MODELS
from .partial_loading import load_glid_pretrained, parts_of


class GLIDFinetuneModel(BatchInvariantMixin, BaseModel):
    """Base of the GLID task models; a task model lists its stock base after it, e.g.
    ``class GLIDSegmentor(GLIDFinetuneModel, BaseSegmentor)``.

    Args:
        encoder_decoder (dict): ``GLIDEncoderDecoder`` config (as in pre-training).
        num_queries (int): Number M of task queries.
        pretrained (dict, optional): ``dict(checkpoint=<GLIDPretrainer checkpoint>,
            load='none' | 'encoder' | 'encoder+decoder' | 'encoder+decoder+queries')``,
            applied by :meth:`init_weights` (i.e. at the start of training); the report of
            loaded keys is kept in :attr:`pretrained_report`.
        data_preprocessor (dict, optional): The task's data preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, encoder_decoder: dict, num_queries: int,
                 pretrained: Optional[dict] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.core = MODELS.build(encoder_decoder)
        self.num_queries = num_queries
        # e_i: zero-initialised, so every query starts as the (pre-trained) CLS token
        self.query_offsets = nn.Parameter(torch.zeros(num_queries, self.core.embed_dims))
        if pretrained is not None:
            unknown = set(pretrained) - {'checkpoint', 'load'}
            if unknown or 'checkpoint' not in pretrained:
                raise KeyError(f'model.pretrained takes checkpoint= and load=, got '
                               f'{sorted(pretrained)}')
            parts_of(pretrained.get('load', 'encoder+decoder+queries'))
        self.pretrained = pretrained
        self.pretrained_report: Optional[dict] = None

    def init_weights(self) -> None:
        super().init_weights()
        with torch.no_grad():
            self.query_offsets.zero_()
        if self.pretrained is not None:
            self.pretrained_report = load_glid_pretrained(
                self, self.pretrained['checkpoint'],
                self.pretrained.get('load', 'encoder+decoder+queries'))

    @property
    def embed_dims(self) -> int:
        return self.core.embed_dims

    def queries(self, batch: int) -> torch.Tensor:
        """``q_i = CLS + e_i``, shape (B, M, C)."""
        q = self.core.cls_token[0] + self.query_offsets
        return q.unsqueeze(0).expand(batch, -1, -1)

    def decode(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Images (B, 3, H, W) -> answers (num_layers, B, M, C) and the BiFPN levels."""
        return self.core(inputs, self.queries(inputs.shape[0]))

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The stock bases' feature extraction: :meth:`decode`."""
        return self.decode(inputs)

    def _forward(self, inputs: torch.Tensor, data_samples=None
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Answers ``(num_layers, B, M, C)`` and the finest BiFPN level ``f_b (B, C, h, w)``
        (``mode='tensor'``)."""
        hs, feats = self.decode(inputs)
        return hs, feats[0]
