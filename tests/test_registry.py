# Copyright (c) mmgen_vision contributors. All rights reserved.
import torch
from mmengine.registry import DATASETS as ROOT_DATASETS
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope

from mmgen_vision.registry import DATASETS, METRICS, MODELS, RUNNERS, TRANSFORMS
from mmgen_vision.utils import register_all_modules


def test_registries_are_children_of_mmengine_roots():
    assert MODELS.scope == 'mmgen_vision' and MODELS.parent is ROOT_MODELS
    assert DATASETS.parent is ROOT_DATASETS
    assert ROOT_MODELS._children['mmgen_vision'] is MODELS


def test_register_all_modules_sets_scope_and_registers_ours():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmgen_vision'
    assert RUNNERS.get('CheckedRunner') is not None
    assert DATASETS.get('ShapesWorldSegDataset') is not None


def test_prefixed_types_of_other_codebases_resolve_in_our_scope():
    register_all_modules(init_default_scope=True)
    with MODELS.switch_scope_and_registry(None) as registry:
        assert registry is MODELS
        # a whole mmseg subtree (the head builds its loss) from our scope with _scope_
        head = registry.build(dict(_scope_='mmseg', type='FCNHead', in_channels=4, channels=4,
                                   num_classes=3, num_convs=1))
        assert type(head).__module__.startswith('mmseg.')
        out = head([torch.zeros(1, 4, 8, 8)])
        assert out.shape == (1, 3, 8, 8)
        loss = registry.build(dict(type='mmdet.DiceLoss'))
        assert type(loss).__module__.startswith('mmdet.')
    assert TRANSFORMS.get('mmpose.GenerateTarget') is not None
    assert METRICS.get('mmseg.IoUMetric') is not None
    # unprefixed names still fall back to MMEngine's root (mmcv transforms live there)
    assert TRANSFORMS.get('LoadImageFromFile') is not None
