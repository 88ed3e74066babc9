# Copyright (c) mmgen_vision contributors. All rights reserved.
from .checked_runner import CheckedRunner, CheckpointMismatchError, check_state_dict_matches

__all__ = ['CheckedRunner', 'CheckpointMismatchError', 'check_state_dict_matches']
