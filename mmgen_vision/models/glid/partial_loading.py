# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Load parts of a GLID pre-training checkpoint into a fine-tuning model (the paper's
central ablation: none / encoder / encoder+decoder / encoder+decoder+queries)."""
from typing import Dict, List, Union

import torch
from mmengine.logging import MMLogger

from mmgen_vision.utils.checkpoint import load_local_checkpoint
from .decoder import rename_legacy_ffn_keys

#: the accepted values of the ``load`` switch, from nothing to everything
LOAD_CHOICES = ('none', 'encoder', 'encoder+decoder', 'encoder+decoder+queries')
#: key prefixes of each part in both the pre-training and the fine-tuning models
PART_PREFIXES = {
    'encoder': ('core.backbone.', 'core.neck.'),
    'decoder': ('core.decoder.', ),
    'queries': ('core.cls_token', ),
}
#: pre-training-only weights inside a loaded part that fine-tuning never uses
PRETRAIN_ONLY_KEYS = ('core.backbone.mask_token', )


def parts_of(load: str) -> List[str]:
    """``'encoder+decoder'`` -> ``['encoder', 'decoder']``; raises on unknown values."""
    if load not in LOAD_CHOICES:
        raise ValueError(f'unknown partial-loading choice "{load}"; expected one of '
                         f'{LOAD_CHOICES}')
    return [] if load == 'none' else load.split('+')


def select_keys(keys, load: str) -> List[str]:
    """The keys of a GLID state dict that the ``load`` choice transfers (sorted)."""
    prefixes = tuple(p for part in parts_of(load) for p in PART_PREFIXES[part])
    return sorted(k for k in keys if prefixes and k.startswith(prefixes)
                  and k not in PRETRAIN_ONLY_KEYS)


def _state_dict(checkpoint: Union[str, dict]) -> Dict[str, torch.Tensor]:
    if isinstance(checkpoint, str):
        checkpoint = load_local_checkpoint(checkpoint, map_location='cpu')
    # checkpoints written before the decoder FFN became timm's Mlp (ffn.0 / ffn.2 keys)
    return rename_legacy_ffn_keys(dict(checkpoint.get('state_dict', checkpoint)))


def load_glid_pretrained(model: torch.nn.Module, checkpoint: Union[str, dict],
                         load: str = 'encoder+decoder+queries', logger=None) -> dict:
    """Copy the chosen parts of a pre-training checkpoint into ``model`` (in place).

    Args:
        model (nn.Module): A GLID fine-tuning model (keys ``core.*``).
        checkpoint (str | dict): Path of a ``GLIDPretrainer`` checkpoint, or its (state) dict.
        load (str): One of :data:`LOAD_CHOICES`.
        logger (MMLogger, optional): Where to log the report (the current logger by default).

    Returns:
        dict: ``load`` (the choice), ``loaded`` (sorted model keys copied from the checkpoint)
        and ``not_loaded`` (sorted model keys left at their initialisation).

    Raises:
        KeyError: a key of a requested part is in the model but not in the checkpoint, or
            in the checkpoint but not in the model (a checkpoint of another architecture).
        ValueError: a requested key has a different shape in the checkpoint.
    """
    wanted_parts = parts_of(load)
    model_state = model.state_dict()
    loaded: List[str] = []
    if wanted_parts:
        source = _state_dict(checkpoint)
        name = checkpoint if isinstance(checkpoint, str) else 'the given state dict'
        ckpt_keys = select_keys(source.keys(), load)
        model_keys = select_keys(model_state.keys(), load)
        missing = sorted(set(model_keys) - set(ckpt_keys))
        unexpected = sorted(set(ckpt_keys) - set(model_keys))
        if missing or unexpected:
            raise KeyError(
                f'GLID partial loading ({load}) from {name}: the checkpoint lacks '
                f'{len(missing)} key(s) of the model {missing[:5]} and has {len(unexpected)} '
                f'key(s) the model does not {unexpected[:5]}; is it a GLIDPretrainer checkpoint '
                'of the same architecture?')
        bad = [(k, tuple(source[k].shape), tuple(model_state[k].shape)) for k in model_keys
               if source[k].shape != model_state[k].shape]
        if bad:
            raise ValueError(f'GLID partial loading ({load}) from {name}: shape mismatch '
                             f'(key, checkpoint, model) {bad[:5]}')
        with torch.no_grad():
            for k in model_keys:
                model_state[k].copy_(source[k].to(model_state[k].dtype))
        loaded = model_keys
    not_loaded = sorted(set(model_state.keys()) - set(loaded))
    logger = logger or MMLogger.get_current_instance()
    logger.info(f'GLID partial loading "{load}": {len(loaded)} tensors loaded '
                f'({", ".join(wanted_parts) or "nothing"}), {len(not_loaded)} left at init')
    logger.info('GLID loaded keys: ' + ', '.join(loaded))
    return dict(load=load, loaded=loaded, not_loaded=not_loaded)
