# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Pieces shared by several methods."""
from .clip_tokenizer import CLIPTokenizer

__all__ = ['CLIPTokenizer']
