# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Convert an official Painter checkpoint (baaivision release, ``ckpt['model']``) to mmgen_vision.

    python tools/model_converters/painter_to_mmgv.py painter_vit_large.pth out.pth [--check]
    python tools/model_converters/painter_to_mmgv.py mae_pretrain_vit_large.pth mae.pth --mae

``--check`` builds the paper-size :class:`Painter` (ViT-L/16, 896 x 448 canvas) and insists
that the converted weights fit it exactly. ``--mae`` converts an MAE ViT-L/16 encoder into the
backbone initialisation (``init_cfg`` of the paper config): the cls token and the MAE decoder
are dropped; Painter's own parameters (tokens, rel-pos tables, head) stay freshly initialised.
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict

import torch

from mmgen_vision.utils.convert import (ConversionError, check_converted_keys,
                                        convert_state_dict, load_official_state_dict,
                                        save_converted_checkpoint)

_BLOCK = r'^blocks\.(\d+)\.'
_OURS_BLOCK = r'backbone.blocks.\1.'

#: Ordered (first match wins) official -> ours rules.
RULES = [
    (r'^(mask_token|segment_token_x|segment_token_y|pos_embed)$', r'backbone.\1'),
    (r'^patch_embed\.proj\.', 'backbone.patch_embed.projection.'),
    (_BLOCK + r'norm1\.', _OURS_BLOCK + 'ln1.'),
    (_BLOCK + r'norm2\.', _OURS_BLOCK + 'ln2.'),
    (_BLOCK + r'attn\.(qkv|proj)\.', _OURS_BLOCK + r'attn.\2.'),
    (_BLOCK + r'attn\.(rel_pos_h|rel_pos_w)$', _OURS_BLOCK + r'attn.\2'),
    (_BLOCK + r'mlp\.fc([12])\.', _OURS_BLOCK + r'ffn.fc\2.'),
    (r'^norm\.', 'backbone.norm.'),
    (r'^decoder_embed\.', 'head.decoder_embed.'),
    (r'^decoder_pred\.0\.', 'head.conv.'),
    (r'^decoder_pred\.1\.', 'head.norm.'),
    (r'^decoder_pred\.3\.', 'head.conv_out.'),
]

#: MAE pre-training keys with no Painter counterpart.
MAE_DROP = (r'^cls_token$', r'^mask_token$', r'^decoder', r'^fc_norm\.', r'^head\.')


def _strip_module(state_dict: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state_dict.items())


def convert_painter(state_dict: Dict[str, torch.Tensor]) -> OrderedDict:
    """Official Painter keys -> :class:`Painter` keys.

    Raises:
        ConversionError: if a key matches no rule (not a Painter checkpoint, or the layout
            changed), or a required Painter key is absent.
    """
    state_dict = _strip_module(state_dict)
    unmatched = [k for k in state_dict if not any(re.search(p, k) for p, _ in RULES)]
    if unmatched:
        raise ConversionError(f'no Painter conversion rule for {len(unmatched)} keys, e.g. '
                              f'{unmatched[:8]}: is this an official Painter checkpoint?')
    required = ('mask_token', 'segment_token_x', 'segment_token_y', 'pos_embed',
                'decoder_embed.weight')
    absent = [k for k in required if k not in state_dict]
    if absent:
        raise ConversionError(f'official Painter keys {absent} are missing from the checkpoint')
    return convert_state_dict(state_dict, RULES)


def convert_mae(state_dict: Dict[str, torch.Tensor]) -> OrderedDict:
    """MAE ViT encoder keys -> :class:`Painter` backbone keys (for ``init_cfg``/``load_from``)."""
    state_dict = _strip_module(state_dict)
    kept = OrderedDict(
        (k, v) for k, v in state_dict.items() if not any(re.search(p, k) for p in MAE_DROP))
    unmatched = [k for k in kept if not any(re.search(p, k) for p, _ in RULES)]
    if unmatched:
        raise ConversionError(f'no MAE -> Painter rule for {unmatched[:8]}')
    return convert_state_dict(kept, RULES)


def paper_model_cfg() -> dict:
    """The released Painter ViT-L/16 (896 x 448 canvas) as a :class:`Painter` config."""
    return dict(
        type='Painter',
        backbone=dict(
            type='PainterViT', img_size=(896, 448), patch_size=16, embed_dims=1024, num_layers=24,
            num_heads=16, mlp_ratio=4., drop_path_rate=0.1, pretrain_img_size=224,
            merge_index=2),
        head=dict(type='PainterHead', in_channels=1024, num_taps=4, patch_size=16,
                  embed_dims=64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for mmgen_vision')
    parser.add_argument('--mae', action='store_true',
                        help='the source is an MAE ViT encoder (backbone initialisation)')
    parser.add_argument('--check', action='store_true',
                        help='check the result against the paper-size model')
    args = parser.parse_args()
    state_dict = load_official_state_dict(args.src)
    converted = convert_mae(state_dict) if args.mae else convert_painter(state_dict)
    if args.check:
        import mmgen_vision.models.painter  # noqa: F401  (registers the modules)
        from mmgen_vision.registry import MODELS
        model = MODELS.build(paper_model_cfg())
        if args.mae:
            expected = model.state_dict()
            bad = [k for k in converted if k not in expected or
                   expected[k].shape != converted[k].shape]
            if bad:
                raise ConversionError(f'MAE weights do not fit the Painter backbone: {bad[:8]}')
        else:
            check_converted_keys(converted, model)
    model_name = 'Painter (MAE init)' if args.mae else 'Painter'
    sha = save_converted_checkpoint(converted, args.dst, source=args.src,
                                    meta=dict(model=model_name))
    print(f'saved {len(converted)} tensors to {args.dst} (sha256 {sha})')


if __name__ == '__main__':
    main()
