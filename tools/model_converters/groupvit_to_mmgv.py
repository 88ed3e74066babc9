# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Convert an official GroupViT checkpoint (NVlabs release, ``ckpt['model']``) to mmgen_vision.

    python tools/model_converters/groupvit_to_mmgv.py group_vit_gcc_yfcc_30e.pth out.pth [--check]

``--check`` builds the paper-size :class:`GroupViT` (embed 384, depths 6/3/3, groups 64/8, text
256 x 12) and insists that the converted weights fit it exactly.
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict

import torch

from mmgen_vision.utils.convert import (ConversionError, check_converted_keys,
                                        convert_state_dict, load_official_state_dict,
                                        save_converted_checkpoint)

_IMG = r'^img_encoder\.'
_STAGE = r'^img_encoder\.layers\.(\d+)\.'
_GROUPING = _STAGE + r'downsample\.'
_TEXT_BLOCK = r'^text_encoder\.transformer\.resblocks\.(\d+)\.'
_OURS_STAGE = r'image_encoder.stages.\1.'
_OURS_GROUPING = _OURS_STAGE + 'grouping.'
_OURS_TEXT_BLOCK = r'text_encoder.layers.\1.'

#: Ordered (first match wins) official -> ours rules.
RULES = [
    # image encoder: patch embedding, position embedding, final norm
    (_IMG + r'patch_embed\.proj\.', 'image_encoder.patch_embed.projection.'),
    # grouping blocks
    (_GROUPING + r'mlp_inter\.', _OURS_GROUPING + 'token_mlp.'),
    (_GROUPING + r'mlp_channels\.', _OURS_GROUPING + 'channel_mlp.'),
    (_GROUPING + r'pre_assign_attn\.norm2\.', _OURS_GROUPING + 'pre_assign_attn.ln2.'),
    (_GROUPING + r'pre_assign_attn\.mlp\.', _OURS_GROUPING + 'pre_assign_attn.ffn.'),
    (_GROUPING + r'(pre_assign_attn\.attn|assign)\.([qkv])_proj\.', _OURS_GROUPING + r'\2.\3.'),
    (_GROUPING, _OURS_GROUPING),
    # transformer blocks of the stages
    (_STAGE + r'blocks\.(\d+)\.norm1\.', _OURS_STAGE + r'blocks.\2.ln1.'),
    (_STAGE + r'blocks\.(\d+)\.norm2\.', _OURS_STAGE + r'blocks.\2.ln2.'),
    (_STAGE + r'blocks\.(\d+)\.mlp\.', _OURS_STAGE + r'blocks.\2.ffn.'),
    (_STAGE + r'blocks\.(\d+)\.attn\.', _OURS_STAGE + r'blocks.\2.attn.'),
    # group tokens and their projector
    (_STAGE + r'group_projector\.0\.', _OURS_STAGE + 'group_projector.norm.'),
    (_STAGE + r'group_projector\.1\.', _OURS_STAGE + 'group_projector.mlp.'),
    (_STAGE + r'group_token$', _OURS_STAGE + 'group_token'),
    (_IMG + r'(pos_embed$|patch_embed\.norm\.|norm\.)', r'image_encoder.\1'),
    # text encoder
    (_TEXT_BLOCK + r'attn\.in_proj_(weight|bias)$', _OURS_TEXT_BLOCK + r'attn.qkv.\2'),
    (_TEXT_BLOCK + r'attn\.out_proj\.', _OURS_TEXT_BLOCK + 'attn.proj.'),
    (_TEXT_BLOCK + r'ln_1\.', _OURS_TEXT_BLOCK + 'ln1.'),
    (_TEXT_BLOCK + r'ln_2\.', _OURS_TEXT_BLOCK + 'ln2.'),
    (_TEXT_BLOCK + r'mlp\.c_fc\.', _OURS_TEXT_BLOCK + 'ffn.fc1.'),
    (_TEXT_BLOCK + r'mlp\.c_proj\.', _OURS_TEXT_BLOCK + 'ffn.fc2.'),
    (r'^text_encoder\.(token_embedding\.|positional_embedding$|ln_final\.)',
     r'text_encoder.\1'),
    # projectors
    (r'^(img|text)_projector\.linear_hidden\.0\.', lambda k, v: {
        k.replace('img_', 'image_').replace('linear_hidden.0.', 'fc1.'): v}),
    (r'^(img|text)_projector\.linear_hidden\.1\.', lambda k, v: {
        k.replace('img_', 'image_').replace('linear_hidden.1.', 'bn.'): v}),
    (r'^(img|text)_projector\.linear_out\.', lambda k, v: {
        k.replace('img_', 'image_').replace('linear_out.', 'fc2.'): v}),
    (r'^(logit_scale|multi_label_logit_scale)$', r'\1'),
]

#: Official keys that have no counterpart: none in the released checkpoints; a
#: DistributedDataParallel prefix is stripped before the rules apply.
DROP = ()


def convert_groupvit(state_dict: Dict[str, torch.Tensor]) -> OrderedDict:
    """Official GroupViT (``MultiLabelContrastive``) keys -> :class:`GroupViT` keys.

    Raises:
        ConversionError: if a key matches no rule (the official layout changed).
    """
    state_dict = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state_dict.items())
    unmatched = [k for k in state_dict if not any(re.search(p, k) for p, _ in RULES)]
    if unmatched:
        raise ConversionError(f'no GroupViT conversion rule for {unmatched[:8]}')
    converted = convert_state_dict(state_dict, RULES, drop=DROP)
    return converted


def paper_model_cfg(multi_label: int = 3) -> dict:
    """The released gcc_yfcc GroupViT (paper size), as a :class:`GroupViT` config."""
    return dict(
        type='GroupViT',
        image_encoder=dict(
            type='GroupViTImageEncoder', img_size=224, patch_size=16, embed_dims=384,
            depths=(6, 3, 3), num_heads=6, num_group_tokens=(64, 8, 0),
            num_output_groups=(64, 8), hard_assignment=True, drop_path_rate=0.1),
        text_encoder=dict(type='GroupViTTextEncoder', context_length=77, vocab_size=49408,
                          width=256, layers=12, heads=4),
        output_dim=256, proj_hidden_channels=4096, contrast_temperature=0.07,
        multi_label=multi_label, share_temperature=False, multi_label_loss_weight=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint for mmgen_vision')
    parser.add_argument('--check', action='store_true',
                        help='check the result against the paper-size model')
    args = parser.parse_args()
    converted = convert_groupvit(load_official_state_dict(args.src))
    if args.check:
        import mmgen_vision.models.groupvit  # noqa: F401  (registers the modules)
        from mmgen_vision.registry import MODELS
        multi_label = 3 if 'multi_label_logit_scale' in converted else 0
        check_converted_keys(converted, MODELS.build(paper_model_cfg(multi_label)))
    sha = save_converted_checkpoint(converted, args.dst, source=args.src,
                                    meta=dict(model='GroupViT'))
    print(f'saved {len(converted)} tensors to {args.dst} (sha256 {sha})')


if __name__ == '__main__':
    main()
