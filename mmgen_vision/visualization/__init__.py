# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Visualizers the stock ones cannot do (in-context canvases, group maps, alpha masks)."""
