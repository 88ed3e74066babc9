# Copyright (c) mmgen_vision contributors. All rights reserved.
"""XDecoderInferencer and demo/xdecoder_demo.py on a tiny random X-Decoder (the toy config),
every task, with the visualisations written to disk."""
import importlib.util
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch

from mmgen_vision.apis import XDecoderInferencer
from mmgen_vision.visualization.xdecoder_vis import add_text_band, draw_named_masks

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs', 'xdecoder', 'xdecoder_toy_shapesworld-joint.py')
DEMO = osp.join(REPO_ROOT, 'demo', 'xdecoder_demo.py')


@pytest.fixture(scope='module')
def inferencer():
    torch.manual_seed(0)
    inf = XDecoderInferencer(CONFIG, 'none', device='cpu')
    inf.model.test_cfg['caption_steps'] = 3
    return inf


@pytest.fixture(scope='module')
def image(tmp_path_factory):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (80, 96, 3), dtype=np.uint8)
    path = str(tmp_path_factory.mktemp('xdec') / 'scene.png')
    mmcv.imwrite(img, path)
    return path


CASES = [
    ('semantic', dict(classes=['red circle', 'sky', 'ground'])),
    ('instance', dict()),
    ('panoptic', dict()),
    ('referring', dict(text='the red circle.the sky')),
    ('retrieval', dict(texts=['a red circle', 'a dog', 'a blue star'])),
    ('caption', dict()),
    ('vqa', dict(question='what is red?', answer_candidates=['circle', 'star'])),
    ('ref-caption', dict(text='the red circle')),
    ('region-retrieval', dict(text='the red circle')),
]


@pytest.mark.parametrize('task,kwargs', CASES, ids=[c[0] for c in CASES])
def test_every_task(inferencer, image, tmp_path, task, kwargs):
    result = inferencer(image, task=task, out_dir=str(tmp_path), **kwargs)
    pred = result['predictions'][0]
    vis = result['visualization'][0]
    assert pred['task'] == task
    assert vis.shape[1] == 96 and vis.shape[0] >= 80 and vis.dtype == np.uint8
    assert osp.isfile(tmp_path / f'scene_{task}.png')
    if task == 'semantic':
        assert pred['sem_seg'].shape == (80, 96) and pred['classes'][0] == 'red circle'
        assert set(np.unique(pred['sem_seg'])) <= {0, 1, 2, 255}
    elif task in ('instance', 'panoptic'):
        assert pred['masks'].shape[1:] == (80, 96)
        assert all(n in inferencer.model.class_names for n in pred['names'])
        if task == 'panoptic':
            assert pred['panoptic_seg'].shape == (80, 96)
    elif task == 'referring':
        assert pred['masks'].shape == (2, 80, 96) and pred['masks'].dtype == bool
    elif task == 'retrieval':
        assert sorted(pred['ranking']) == sorted(kwargs['texts'])
        assert pred['ranking'][0] == kwargs['texts'][int(np.argmax(pred['scores']))]
    elif task in ('caption', 'ref-caption'):
        assert isinstance(pred['caption'], str)
        assert vis.shape[0] > 80  # the caption band
    elif task == 'vqa':
        assert pred['answer'] in kwargs['answer_candidates']


def test_missing_task_input_is_named(inferencer, image):
    with pytest.raises(ValueError, match='needs `text`'):
        inferencer(image, task='referring')
    with pytest.raises(ValueError, match='unknown X-Decoder task'):
        inferencer(image, task='depth')


def test_background_is_explicit(inferencer, image):
    """Semantic results state their background rule; a named class is reported, never chosen
    unasked; a threshold leaves the pixels below it to no class (255)."""
    classes = ['red circle', 'sky', 'ground']
    plain = inferencer(image, task='semantic', classes=classes)['predictions'][0]
    assert plain['background'].startswith('none') and 'background_index' not in plain
    assert set(np.unique(plain['sem_seg'])) <= {0, 1, 2}  # every pixel gets a class
    named = inferencer(image, task='semantic', classes=classes,
                       background='sky')['predictions'][0]
    assert named['background_index'] == 1 and "'sky'" in named['background']
    np.testing.assert_array_equal(named['sem_seg'], plain['sem_seg'])
    with pytest.raises(ValueError, match="'grass' is none of the classes"):
        inferencer(image, task='semantic', classes=classes, background='grass')
    with pytest.raises(ValueError, match='positive score threshold'):
        inferencer(image, task='semantic', classes=classes, background=-1.0)
    # a threshold above the best probability of some pixels: those (and only those) get 255
    data = inferencer(image, task='semantic', classes=classes, return_datasamples=True)
    best = data['predictions'][0].seg_logits.data.max(dim=0).values
    threshold = float(best.median())
    thr = inferencer(image, task='semantic', classes=classes,
                     background=threshold)['predictions'][0]
    below = (best < threshold).numpy()
    assert below.any() and (thr['sem_seg'][below] == 255).all()
    np.testing.assert_array_equal(thr['sem_seg'][~below], plain['sem_seg'][~below])
    assert thr['background'].startswith('threshold')


def test_drawing_helpers():
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    masks = np.zeros((1, 20, 30), dtype=bool)
    masks[0, :, :10] = True
    out = draw_named_masks(image, masks, ['x'], palette=[(200, 0, 0)], alpha=0.5)
    assert out[0, 0, 0] == 100 and out[0, 29, 0] == 0  # blended inside, untouched outside
    assert add_text_band(image, ['a', 'b']).shape[0] > 20
    with pytest.raises(ValueError, match='names'):
        draw_named_masks(image, masks, ['x', 'y'])


def test_demo_cli(image, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('xdecoder_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.main([image, CONFIG, 'none', '--task', 'semantic', '--classes', 'red circle', 'sky',
               '--out-dir', str(tmp_path), '--device', 'cpu'])
    out = capsys.readouterr().out
    assert 'saved' in out and osp.isfile(tmp_path / 'scene_semantic.png')
    assert 'background: none' in out  # the rule is always stated
    demo.main([image, CONFIG, 'none', '--task', 'semantic', '--classes', 'red circle', 'sky',
               '--background', 'sky', '--out-dir', str(tmp_path), '--device', 'cpu'])
    assert "background: class 1 'sky'" in capsys.readouterr().out
