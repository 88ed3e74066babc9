# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Inferencers, one per method, on a shared base."""
