# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The class-coloured ShapesWorld variant the GroupViT toy trains on (``class_colors=True``).

The option is opt-in: the same scenes (layout, masks, random streams) with every shape painted
in the colour of its class; the default dataset must not change. Also the toy recipe's
learning-rate groups (the group tokens' 10x rate against the grouping collapse).
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from conftest import REPO_ROOT
from mmgen_vision.datasets import generate_shapesworld
from mmgen_vision.datasets.shapesworld import render_scene
from mmgen_vision.datasets.shapesworld.language import make_captions
from mmgen_vision.datasets.shapesworld.meta import CLASS_COLOR_NAMES, COLORS, SHAPE_CLASSES
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import register_all_modules

TOY_CONFIG = osp.join(REPO_ROOT, 'configs', 'groupvit',
                      'groupvit_toy_shapesworld.py')


def test_class_colors_keep_the_layout_and_colour_by_class():
    seen = set()
    for index in range(12):
        plain = render_scene(0, 'train', index, 64)
        coded = render_scene(0, 'train', index, 64, class_colors=True)
        assert np.array_equal(plain.semantic, coded.semantic)
        assert np.array_equal(plain.instance, coded.instance)
        assert [o.category for o in plain.objects] == [o.category for o in coded.objects]
        for obj in coded.objects:
            if obj.category not in SHAPE_CLASSES:
                continue
            seen.add(obj.category)
            assert obj.color == CLASS_COLOR_NAMES[obj.category]
            # painted in the jittered nominal colour of its class (jitter <= 12 per channel)
            pixels = coded.image[obj.mask].astype(int)
            assert np.abs(pixels - np.array(COLORS[obj.color])).max() <= 12
        captions = make_captions(coded, np.random.default_rng(0))
        for obj in coded.objects:
            if obj.category in SHAPE_CLASSES:
                assert f'{CLASS_COLOR_NAMES[obj.category]} {obj.category}' in captions[0]
    assert seen == set(SHAPE_CLASSES)
    # the default draws colours independently of the class
    plain_pairs = {(o.category, o.color)
                   for i in range(12) for o in render_scene(0, 'train', i, 64).objects}
    assert any(color != CLASS_COLOR_NAMES.get(cat, color) for cat, color in plain_pairs)


def test_class_colors_recorded_and_not_mixed_with_the_default(tmp_path):
    root = str(tmp_path / 'sw')
    kwargs = dict(num_train=2, num_val=1, image_size=64, formats=('shards', ))
    generate_shapesworld(root, **kwargs)
    meta_file = osp.join(root, 'meta.json')
    with open(meta_file) as f:
        assert 'class_colors' not in json.load(f)  # default meta.json unchanged
    # must not reuse the default set: refused (the default set is kept) unless asked to replace
    with pytest.raises(FileExistsError, match='class_colors False there, True asked'):
        generate_shapesworld(root, class_colors=True, **kwargs)
    with open(meta_file) as f:
        assert 'class_colors' not in json.load(f)
    generate_shapesworld(root, class_colors=True, force=True, **kwargs)
    with open(meta_file) as f:
        assert json.load(f)['class_colors'] is True
    generate_shapesworld(root, force=True, **kwargs)  # and back
    with open(meta_file) as f:
        assert 'class_colors' not in json.load(f)


def _param_group_of(optim_wrapper, param: torch.nn.Parameter) -> dict:
    groups = [g for g in optim_wrapper.optimizer.param_groups
              if any(p is param for p in g['params'])]
    assert len(groups) == 1
    return groups[0]


def test_toy_recipe_trains_the_group_tokens_10x_faster():
    """The toy's group tokens start at std 0.02 beside LayerNorm-ed (unit-scale) patch tokens;
    at the base rate they stay ~50x smaller through 300 steps, leave the blocks as near copies
    and the grouping collapses on some seeds (README, toy). The recipe gives them 10x the rate
    (no weight decay); every other weight keeps the base rate."""
    register_all_modules()
    cfg = Config.fromfile(TOY_CONFIG)
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    group_token = model.image_encoder.stages[0].group_token
    group = _param_group_of(optim, group_token)
    assert group['lr'] == 10 * base_lr
    assert group['weight_decay'] == 0
    patch = _param_group_of(optim, model.image_encoder.patch_embed.projection.weight)
    assert patch['lr'] == base_lr and patch['weight_decay'] == cfg.optim_wrapper.optimizer[
        'weight_decay']
    for name in ('logit_scale', 'multi_label_logit_scale'):
        assert _param_group_of(optim, getattr(model, name))['lr'] == base_lr
    # the group tokens are the only parameters on the fast rate
    fast = [n for n, p in model.named_parameters() if _param_group_of(optim, p)['lr'] != base_lr]
    assert fast == ['image_encoder.stages.0.group_token']
