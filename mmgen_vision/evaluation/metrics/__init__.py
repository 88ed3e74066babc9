# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Metrics the stock libraries lack (depth, PSNR/SSIM, referring, retrieval, captioning).
Everything else is the stock metric, e.g. ``type='mmseg.IoUMetric'``."""
from .referring_metric import ReferringSegMetric

__all__ = ['ReferringSegMetric']
