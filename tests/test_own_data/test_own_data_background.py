# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Background is explicit (issue 15): no open-vocabulary path turns a class of the user's into
background unasked, each takes ``background`` (none / a named class, with its threshold) and
says which rule it uses."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from conftest import REPO_ROOT
from mmgen_vision.models.peekaboo import PeekabooSegmentor
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import register_all_modules
from own_data_utils import OWN_CLASSES

GROUPVIT_ZEROSHOT = osp.join(REPO_ROOT, 'configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py')


@pytest.fixture(scope='module')
def groupvit_cfg():
    register_all_modules()
    return Config.fromfile(GROUPVIT_ZEROSHOT)


def _groupvit(cfg, **overrides):
    model_cfg = cfg.model.copy()
    model_cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(model_cfg).eval()


def test_groupvit_default_never_makes_a_named_class_background(groupvit_cfg):
    model = _groupvit(groupvit_cfg, class_names=OWN_CLASSES, with_bg=None)
    assert model.background_index is None
    assert model.prompt_class_names == list(OWN_CLASSES)  # 'ball' is prompted
    assert 'no background class' in model.background_rule
    # a list with a class named 'background' keeps the release's rule
    voc = _groupvit(groupvit_cfg, with_bg=None)
    assert voc.background_index == 0 and 'background' not in voc.prompt_class_names


def test_groupvit_named_background_at_any_position(groupvit_cfg):
    model = _groupvit(groupvit_cfg, class_names=OWN_CLASSES, with_bg=None, background='heavens')
    assert model.background_index == 3 and 'heavens' not in model.prompt_class_names
    assert "background = class 3 'heavens'" in model.background_rule
    image = torch.rand(1, 3, 32, 32)
    raw = model.seg_logits(image, model.text_embedding(), with_bg=True,
                           bg_thresh=model.bg_thresh, topk=model.topk)
    logits = model.window_logits(image)
    assert logits.shape[1] == 5
    torch.testing.assert_close(logits[:, 3], raw[:, 0])  # the background channel at label 3
    torch.testing.assert_close(logits[:, :3], raw[:, 1:4])
    torch.testing.assert_close(logits[:, 4], raw[:, 4])
    with pytest.raises(ValueError, match="background='sky' is not one of the class names"):
        _groupvit(groupvit_cfg, class_names=OWN_CLASSES, with_bg=None, background='sky')


def test_groupvit_inherited_first_class_switch_is_refused(groupvit_cfg):
    # the toy config says with_bg=True; a child that only sets its own class names would lose
    # 'ball' to background without a word
    with pytest.raises(ValueError, match="with_bg=True would make the first class 'ball'"):
        _groupvit(groupvit_cfg, class_names=OWN_CLASSES)


def _demo():
    path = osp.join(REPO_ROOT, 'demo', 'groupvit_demo.py')
    spec = importlib.util.spec_from_file_location('groupvit_demo_own_data', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_groupvit_demo_classes_and_background_option(groupvit_cfg, tmp_path, capsys):
    model = _groupvit(groupvit_cfg)
    checkpoint = str(tmp_path / 'groupvit.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    image = str(tmp_path / 'scene.png')
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 48, 3), np.uint8)).save(image)
    demo = _demo()
    capsys.readouterr()
    demo.main([image, GROUPVIT_ZEROSHOT, checkpoint, '--classes', *OWN_CLASSES, '--out-dir',
               str(tmp_path / 'a'), '--device', 'cpu'])
    out = capsys.readouterr().out
    assert 'classes: ball, crate, pyramid, heavens, floor; no background class' in out
    demo.main([image, GROUPVIT_ZEROSHOT, checkpoint, '--classes', *OWN_CLASSES, '--background',
               'floor', '--out-dir', str(tmp_path / 'b'), '--device', 'cpu'])
    assert "background = class 4 'floor'" in capsys.readouterr().out
    # without --classes: the config's rule, said out loud
    demo.main([image, GROUPVIT_ZEROSHOT, checkpoint, '--out-dir', str(tmp_path / 'c'),
               '--device', 'cpu'])
    assert "background = class 0 'background'" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        demo.parse_args(['--help'])
    help_text = ' '.join(capsys.readouterr().out.split())
    assert "or 'none' (every class is prompted)" in help_text


def _peekaboo(**kwargs):
    return PeekabooSegmentor(guide=torch.nn.Identity(), alpha=dict(type='RasterAlpha'),
                             mode='semantic', show_progress=False, **kwargs)


def test_peekaboo_default_prompts_every_class_of_yours():
    model = _peekaboo(class_names=OWN_CLASSES)
    assert model.background_index is None
    assert model._foreground_labels() == [0, 1, 2, 3, 4]
    assert 'no background class' in model.background_rule
    # plain argmax over the five masks: label 0 ('ball') can be predicted
    alphas = torch.zeros(5, 4, 4)
    alphas[0] = 0.2  # weak, but the best: no threshold turns it into another class
    assert (model._labels(alphas) == 0).all()


def test_peekaboo_named_background_and_index():
    model = _peekaboo(class_names=OWN_CLASSES, background='heavens')
    assert model.background_index == 3 and model._foreground_labels() == [0, 1, 2, 4]
    assert "background = class 3 'heavens'" in model.background_rule
    assert _peekaboo(class_names=('background', ) + OWN_CLASSES).background_index == 0
    assert _peekaboo(class_names=OWN_CLASSES, background_index=1).background_index == 1
    assert _peekaboo(class_names=('background', 'ball'), background=None).background_index is None
    with pytest.raises(ValueError, match="background='sky' is not one of the class names"):
        _peekaboo(class_names=OWN_CLASSES, background='sky')
