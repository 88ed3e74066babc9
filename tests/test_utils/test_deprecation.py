# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Renamed constructor arguments: the old keyword maps to the new one with a FutureWarning."""
import importlib.util
import inspect
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config

from mmgen_vision.registry import MODELS
from mmgen_vision.utils import (TASK_ALIASES, TASK_NAMES, ConfigKeyError, canonical_task,
                                check_override_keys, register_all_modules, renamed_arguments)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class _Block:

    @renamed_arguments(dim='embed_dims', ffn='feedforward_channels')
    def __init__(self, embed_dims: int, feedforward_channels: int = 4, bias: bool = True):
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.bias = bias


def test_old_keyword_maps_to_the_new_one_with_a_warning():
    with pytest.warns(FutureWarning, match="_Block: argument 'dim' was renamed to 'embed_dims'"):
        block = _Block(dim=8, bias=False)
    assert (block.embed_dims, block.feedforward_channels, block.bias) == (8, 4, False)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the new names (and positional arguments) stay silent
        block = _Block(8, feedforward_channels=16)
        assert (block.embed_dims, block.feedforward_channels) == (8, 16)
    with pytest.raises(TypeError, match="got both 'ffn' and 'feedforward_channels'.*pass only "
                       "'feedforward_channels'"):
        _Block(8, ffn=16, feedforward_channels=16)


def test_signature_shows_the_new_names_and_the_mapping_is_kept():
    params = inspect.signature(_Block.__init__).parameters
    assert 'embed_dims' in params and 'dim' not in params
    assert _Block.__init__.renamed_arguments == dict(dim='embed_dims', ffn='feedforward_channels')
    with pytest.raises(ValueError, match='must map to a different name'):
        renamed_arguments(embed_dims='embed_dims')


# (type, new-style config, {old name: new name}) of every registered module that renamed one
RENAMED = [
    (dict(type='PainterViT', img_size=(16, 8), patch_size=4, embed_dims=16, num_layers=2,
          num_heads=2, pretrain_img_size=8, merge_index=0, out_indices=(0, 1)),
     dict(embed_dim='embed_dims', depth='num_layers')),
    (dict(type='PainterHead', in_channels=16, num_taps=2, patch_size=4, embed_dims=4),
     dict(embed_dim='embed_dims')),
    (dict(type='GroupViTImageEncoder', img_size=16, patch_size=4, embed_dims=16, depths=(1, 1),
          num_heads=2, num_group_tokens=(2, 0), num_output_groups=(2, ), drop_path_rate=0.),
     dict(embed_dim='embed_dims')),
    (dict(type='FocalNet', embed_dims=8, depths=(1, 1, 1, 1), focal_levels=2, focal_windows=3,
          drop_path_rate=0.), dict(embed_dim='embed_dims')),
    (dict(type='XDecoderPixelDecoder', in_channels=(8, 16, 32, 64), feat_channels=8,
          out_channels=8, num_encoder_layers=1, num_heads=2, feedforward_channels=16,
          norm_cfg=dict(type='GN', num_groups=4)),
     dict(conv_dim='feat_channels', mask_dim='out_channels', ffn_dim='feedforward_channels')),
    (dict(type='XDecoderTransformerDecoder', in_channels=8, embed_dims=8, num_queries=3,
          num_heads=2, feedforward_channels=16, num_layers=1, mask_channels=8, proj_dim=8),
     dict(hidden_dim='embed_dims', ffn_dim='feedforward_channels', mask_dim='mask_channels')),
    (dict(type='GLIDTransformerDecoder', embed_dims=8, num_layers=1, num_heads=2, mlp_ratio=2.),
     dict(ffn_ratio='mlp_ratio')),
]


@pytest.mark.parametrize('cfg, renames', RENAMED, ids=[c['type'] for c, _ in RENAMED])
def test_a_config_with_the_old_names_builds_the_same_module(cfg, renames):
    register_all_modules()
    old_cfg = dict(cfg)
    for old, new in renames.items():
        old_cfg[old] = old_cfg.pop(new)
    torch.manual_seed(0)
    new = MODELS.build(cfg)
    torch.manual_seed(0)
    with pytest.warns(FutureWarning) as record:
        old = MODELS.build(old_cfg)
    messages = ' '.join(str(w.message) for w in record)
    for old_name, new_name in renames.items():
        assert f"'{old_name}' was renamed to '{new_name}'" in messages
    new_state, old_state = new.state_dict(), old.state_dict()
    assert list(new_state) == list(old_state)  # checkpoints load either way
    for key, value in new_state.items():
        assert torch.equal(value, old_state[key]), key


def test_old_override_key_is_refused_naming_the_new_one():
    register_all_modules()
    cfg = Config(dict(model=dict(type='XDecoder', backbone=dict(type='FocalNet', embed_dims=8))))
    with pytest.raises(ConfigKeyError, match=r"did you mean 'embed_dims'"):
        check_override_keys(cfg, {'model.backbone.embed_dim': 16})


def test_task_spellings_map_to_one_vocabulary():
    assert set(TASK_ALIASES.values()) <= set(TASK_NAMES)
    assert not set(TASK_ALIASES) & set(TASK_NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert canonical_task('semantic', ('semantic', 'instance')) == 'semantic'
    with pytest.warns(FutureWarning, match=r"X-Decoder task 'ref-seg' is now spelt 'referring'"):
        assert canonical_task('ref-seg', owner='X-Decoder task') == 'referring'
    with pytest.raises(ValueError, match=r"unknown task 'segm'; choose one of \('semantic',"):
        canonical_task('segm', ('semantic', 'instance'))


def test_old_task_spellings_still_work_where_they_were_public():
    from mmgen_vision.models.xdecoder.xdecoder import TASKS, XDecoder
    assert set(TASKS) & set(TASK_NAMES) >= {'semantic', 'instance', 'panoptic', 'referring'}
    for old, new in (('semseg', 'semantic'), ('ref-seg', 'referring'), ('grounding', 'referring'),
                     ('captioning', 'caption')):
        with pytest.warns(FutureWarning, match=f"'{old}' is now spelt '{new}'"):
            assert XDecoder.check_task(old) == new
    demo = _load(osp.join(REPO_ROOT, 'demo', 'xdecoder_demo.py'))
    assert demo.parse_args(['a.jpg', 'cfg.py', 'none']).task == 'semantic'
    assert demo.parse_args(['a.jpg', 'cfg.py', 'none', '--task', 'ref-seg']).task == 'ref-seg'
    ablation = _load(
        osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'glid_partial_loading_ablation.py'))
    with pytest.warns(FutureWarning, match="'det' is now spelt 'detection'"):
        args = ablation.parse_args(['--tasks', 'semseg', 'det'])
    assert args.tasks == ['semantic', 'detection']


def _load(path: str):
    spec = importlib.util.spec_from_file_location(osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
