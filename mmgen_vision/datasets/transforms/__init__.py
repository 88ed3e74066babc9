# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Data transforms that the stock libraries do not have."""
