# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Convert an official X-Decoder checkpoint (microsoft/X-Decoder release ``.pt``; the
mmdetection port uses the same file unmodified) to mmgen_vision's :class:`XDecoder`.

    python tools/model_converters/xdecoder_to_mmgv.py xdecoder_focalt_last.pt out.pth [--check]

``--check`` builds the Focal-T paper model (``configs/_base_/models/xdecoder_focalt.py``) and
insists that the converted weights fit it exactly. The release's ``self_attn_mask`` buffer is
not a weight of ours: it is compared with the mask our rules build and then dropped.
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict

import torch

from mmgen_vision.utils.convert import (ConversionError, check_converted_keys,
                                        convert_state_dict, load_official_state_dict,
                                        save_converted_checkpoint)

_BB = r'^backbone\.'
_BLOCK = _BB + r'layers\.(\d+)\.blocks\.(\d+)\.'
_PD = r'^sem_seg_head\.pixel_decoder\.'
_ENC = _PD + r'transformer\.encoder\.layers\.(\d+)\.'
_PRED = r'^sem_seg_head\.predictor\.'
_LANG = _PRED + r'lang_encoder\.'
_TXT = _LANG + r'lang_encoder\.resblocks\.(\d+)\.'
_OUR_TXT = r'lang_encoder.text_encoder.layers.\1.'

#: Ordered (first match wins) official -> ours rules; ``layer_N`` of the pixel decoder (the
#: coarsest level's output conv) is handled in :func:`convert_xdecoder`.
RULES = [
    # FocalNet
    (_BB + r'patch_embed\.proj\.', 'backbone.patch_embed.projection.'),
    (_BB + r'patch_embed\.norm\.', 'backbone.patch_embed.norm.'),
    (_BLOCK + r'gamma_([12])$', r'backbone.stages.\1.blocks.\2.gamma\3'),
    (_BLOCK, r'backbone.stages.\1.blocks.\2.'),
    (_BB + r'layers\.(\d+)\.downsample\.proj\.', r'backbone.stages.\1.downsample.projection.'),
    (_BB + r'layers\.(\d+)\.downsample\.norm\.', r'backbone.stages.\1.downsample.norm.'),
    (_BB + r'norm(\d+)\.', r'backbone.out_norms.\1.'),
    # pixel decoder
    (_PD + r'adapter_(\d+)\.norm\.', lambda k, v: {
        f'pixel_decoder.lateral_convs.{_index(k, "adapter_") - 1}.gn.{k.split(".")[-1]}': v}),
    (_PD + r'adapter_(\d+)\.weight$', lambda k, v: {
        f'pixel_decoder.lateral_convs.{_index(k, "adapter_") - 1}.conv.weight': v}),
    (_PD + r'mask_features\.', 'pixel_decoder.mask_feature.'),
    (_PD + r'input_proj\.', 'pixel_decoder.input_proj.'),
    (_ENC + r'self_attn\.', r'pixel_decoder.encoder.\1.attn.self_attn.'),
    (_ENC + r'norm1\.', r'pixel_decoder.encoder.\1.attn.norm.'),
    (_ENC + r'linear1\.', r'pixel_decoder.encoder.\1.ffn.fc1.'),
    (_ENC + r'linear2\.', r'pixel_decoder.encoder.\1.ffn.fc2.'),
    (_ENC + r'norm2\.', r'pixel_decoder.encoder.\1.ffn.norm.'),
    # language encoder
    (_TXT + r'attn\.in_proj_(weight|bias)$', _OUR_TXT + r'attn.qkv.\2'),
    (_TXT + r'attn\.out_proj\.', _OUR_TXT + 'attn.proj.'),
    (_TXT + r'ln_([12])\.', _OUR_TXT + r'ln\2.'),
    (_TXT + r'mlp\.c_fc\.', _OUR_TXT + 'ffn.fc1.'),
    (_TXT + r'mlp\.c_proj\.', _OUR_TXT + 'ffn.fc2.'),
    (_LANG + r'lang_encoder\.(token_embedding\.|positional_embedding$|ln_final\.)',
     r'lang_encoder.text_encoder.\1'),
    (_LANG + r'(lang_proj|logit_scale)$', r'lang_encoder.\1'),
    # transformer decoder
    (_PRED + r'transformer_self_attention_layers\.(\d+)\.', r'decoder.self_attn_layers.\1.'),
    (_PRED + r'transformer_cross_attention_layers\.(\d+)\.multihead_attn\.',
     r'decoder.cross_attn_layers.\1.cross_attn.'),
    (_PRED + r'transformer_cross_attention_layers\.(\d+)\.norm\.',
     r'decoder.cross_attn_layers.\1.norm.'),
    (_PRED + r'transformer_ffn_layers\.(\d+)\.linear([12])\.', r'decoder.ffn_layers.\1.fc\2.'),
    (_PRED + r'transformer_ffn_layers\.(\d+)\.norm\.', r'decoder.ffn_layers.\1.norm.'),
    (_PRED + r'caping_embed$', 'decoder.caption_embed'),
    (_PRED + r'pos_embed_caping\.', 'decoder.caption_pos_embed.'),
    (_PRED + r'(query_feat|query_embed|level_embed|decoder_norm|mask_embed|input_proj)\.',
     r'decoder.\1.'),
    (_PRED + r'class_embed$', 'decoder.class_embed'),
]

#: Official keys without a counterpart (the retrieval-ensemble projection the released
#: inference never uses, the criterion's class weights, the attention-mask buffer).
DROP = (r'^backbone_proj', r'^criterion\.', _PRED + r'self_attn_mask$')


def _index(key: str, prefix: str) -> int:
    return int(re.search(re.escape(prefix) + r'(\d+)', key).group(1))


def check_self_attn_mask(mask: torch.Tensor, num_queries: int) -> None:
    """Raise unless the release's ``self_attn_mask [1, Q + T, Q + T]`` equals ours."""
    from mmgen_vision.models.xdecoder.attention_masks import build_self_attn_mask
    mask = mask.reshape(mask.shape[-2:]).bool()
    ours = build_self_attn_mask(num_queries, num_text=mask.shape[0] - num_queries)
    if not torch.equal(mask, ours):
        rows, cols = torch.nonzero(mask != ours, as_tuple=True)
        raise ConversionError(
            f'the checkpoint\'s self_attn_mask differs from the X-Decoder rules at '
            f'{len(rows)} entries, e.g. {list(zip(rows[:4].tolist(), cols[:4].tolist()))}')


def convert_xdecoder(state_dict: Dict[str, torch.Tensor]) -> OrderedDict:
    """Official X-Decoder keys -> :class:`XDecoder` keys.

    Raises:
        ConversionError: if a key matches no rule (the official layout changed) or the
            attention-mask buffer contradicts the rules.
    """
    state_dict = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v) for k, v in state_dict.items())
    layers = sorted({_index(k, 'layer_') for k in state_dict
                     if re.match(_PD + r'layer_\d+\.', k)})
    if not layers:
        raise ConversionError('no sem_seg_head.pixel_decoder.layer_* keys: is this an '
                              'X-Decoder checkpoint?')
    last = layers[-1]
    rules = [(_PD + rf'layer_{last}\.norm\.', 'pixel_decoder.encoder_out_conv.gn.'),
             (_PD + rf'layer_{last}\.weight$', 'pixel_decoder.encoder_out_conv.conv.weight'),
             (_PD + r'layer_(\d+)\.norm\.', lambda k, v: {
                 f'pixel_decoder.output_convs.{_index(k, "layer_") - 1}.gn.'
                 f'{k.split(".")[-1]}': v}),
             (_PD + r'layer_(\d+)\.weight$', lambda k, v: {
                 f'pixel_decoder.output_convs.{_index(k, "layer_") - 1}.conv.weight': v})
             ] + RULES
    unmatched = [k for k in state_dict if not any(re.search(p, k) for p, _ in rules)
                 and not any(re.search(p, k) for p in DROP)]
    if unmatched:
        raise ConversionError(f'no X-Decoder conversion rule for {unmatched[:8]}')
    mask_key = 'sem_seg_head.predictor.self_attn_mask'
    if mask_key in state_dict:
        num_queries = state_dict['sem_seg_head.predictor.query_feat.weight'].shape[0]
        check_self_attn_mask(state_dict[mask_key], num_queries)
    return convert_state_dict(state_dict, rules, drop=DROP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('src', help='official checkpoint (.pt)')
    parser.add_argument('dst', help='output checkpoint for mmgen_vision')
    parser.add_argument('--check', action='store_true',
                        help='check the result against the Focal-T paper model')
    args = parser.parse_args()
    converted = convert_xdecoder(load_official_state_dict(args.src))
    if args.check:
        import os.path as osp

        from mmengine.config import Config

        import mmgen_vision.models  # noqa: F401  (registers the modules)
        from mmgen_vision.registry import MODELS
        cfg_path = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'models',
                            'xdecoder_focalt.py')
        check_converted_keys(converted, MODELS.build(Config.fromfile(cfg_path).model))
    sha = save_converted_checkpoint(converted, args.dst, source=args.src,
                                    meta=dict(model='XDecoder'))
    print(f'saved {len(converted)} tensors to {args.dst} (sha256 {sha})')


if __name__ == '__main__':
    main()
