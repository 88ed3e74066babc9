# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The class-coloured ShapesWorld variant the GroupViT toy trains on (``class_colors=True``).

The option is opt-in: the same scenes (layout, masks, random streams) with every shape painted
in the colour of its class; the default dataset must not change.
"""
import json
import os.path as osp

import numpy as np

from mmgen_vision.datasets import generate_shapesworld
from mmgen_vision.datasets.shapesworld import render_scene
from mmgen_vision.datasets.shapesworld.language import make_captions
from mmgen_vision.datasets.shapesworld.meta import CLASS_COLOR_NAMES, COLORS, SHAPE_CLASSES


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
    generate_shapesworld(root, class_colors=True, **kwargs)  # must not reuse the default set
    with open(meta_file) as f:
        assert json.load(f)['class_colors'] is True
    generate_shapesworld(root, **kwargs)  # and back
    with open(meta_file) as f:
        assert 'class_colors' not in json.load(f)
