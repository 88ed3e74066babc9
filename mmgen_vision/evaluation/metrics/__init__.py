# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Metrics the stock libraries lack (depth, PSNR/SSIM, referring, retrieval, captioning).
Everything else is the stock metric, e.g. ``type='mmseg.IoUMetric'``."""
from .referring_metric import ReferringSegMetric
from .caption_metric import CaptionMetric  # noqa: E402
from .retrieval_metric import RetrievalMetric  # noqa: E402
from .restoration_metric import RestorationMetric  # noqa: E402

__all__ = ['ReferringSegMetric']
__all__ += ['CaptionMetric', 'RetrievalMetric']
__all__ += ['RestorationMetric']
