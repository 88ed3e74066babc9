# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Layer-wise learning-rate decay for ViT-style backbones (BEiT / MAE fine-tuning recipe)."""
import re
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from mmgen_vision.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups with ``lr * decay ** (num_layers + 1 - layer_id)``.

    Layer ids: the embedding parameters (``backbone.patch_embed``, ``pos_embed`` and the
    tokens) are layer 0, ``backbone.blocks.<i>`` is layer ``i + 1``, everything else (final
    norm, head) is layer ``num_layers + 1`` (full lr). Biases, norms, 1-D parameters and the
    ``no_decay_names`` get no weight decay.

    ``paramwise_cfg`` keys:
        layer_decay_rate (float): The decay (0.8 for Painter ViT-L).
        num_layers (int): Number of blocks (24 for ViT-L).
        no_decay_names (sequence[str]): Extra parameter-name fragments without weight decay.
    """

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module: Optional[bool] = None) -> None:
        cfg = dict(self.paramwise_cfg)
        decay = float(cfg.get('layer_decay_rate', 1.0))
        num_layers = cfg.get('num_layers')
        if num_layers is None:
            raise KeyError('LayerDecayOptimWrapperConstructor needs paramwise_cfg.num_layers')
        no_decay: Sequence[str] = tuple(cfg.get('no_decay_names', (
            'pos_embed', 'mask_token', 'segment_token', 'rel_pos_h', 'rel_pos_w')))
        base_lr = self.optimizer_cfg['lr']
        base_wd = self.optimizer_cfg.get('weight_decay', 0.)
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            layer = self.layer_id(name, num_layers)
            skip_wd = param.ndim == 1 or name.endswith('.bias') or any(n in name for n in no_decay)
            key = (layer, skip_wd)
            if key not in groups:
                groups[key] = dict(params=[], lr=base_lr * decay**(num_layers + 1 - layer),
                                   weight_decay=0. if skip_wd else base_wd,
                                   layer_id=layer)
            groups[key]['params'].append(param)
        params.extend(groups[k] for k in sorted(groups))
        MMLogger.get_current_instance().info(
            f'layer-wise lr decay {decay} over {num_layers} blocks: {len(groups)} groups')

    @staticmethod
    def layer_id(name: str, num_layers: int) -> int:
        """Layer index of a parameter name (see the class docstring)."""
        if re.search(r'(^|\.)(patch_embed|pos_embed|mask_token|segment_token_[xy])', name) and \
                'blocks.' not in name:
            return 0
        match = re.search(r'(^|\.)blocks\.(\d+)\.', name)
        if match:
            return int(match.group(2)) + 1
        return num_layers + 1
