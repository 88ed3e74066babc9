# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Visualisations that used to lose information.

* Peekaboo referring: one picture per expression (not one per image, overwritten by each of
  its expressions), with the expression written on it.
* ``tools/test.py --show-dir``: every test image is painted, whatever the config's hook interval
  (mmseg's hook defaults to 1 batch in 50), and every config's test hook paints every batch.
* Non-ASCII text (captions, phrases) is drawn, not replaced by ``??``.
"""
import glob
import importlib.util
import os.path as osp
import uuid
from argparse import Namespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample
from PIL import Image

from mmgen_vision.registry import VISUALIZERS
from mmgen_vision.utils import register_all_modules
from mmgen_vision.visualization import ReferringSegLocalVisualizer, drawable_text, text_band
from mmgen_vision.visualization.xdecoder_vis import add_text_band, draw_named_masks

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REFCOCO_TOY = osp.join(REPO, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py')


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules(init_default_scope=False)
    init_default_scope('mmgen_vision')


def _referring_samples(img_path, expressions):
    """One data sample per expression of the same image, as RefCocoSegDataset gives them."""
    samples = []
    for k, text in enumerate(expressions):
        sample = SegDataSample(metainfo=dict(img_path=img_path, text=text, sent_id=100 + k,
                                             ref_id=7, img_shape=(32, 48), ori_shape=(32, 48)))
        gt = torch.zeros(1, 32, 48, dtype=torch.long)
        gt[:, 8:20, 10:30] = 1
        pred = torch.zeros(1, 32, 48, dtype=torch.long)
        pred[:, 10 + k:22, 12:28] = 1
        sample.gt_sem_seg = PixelData(data=gt)
        sample.pred_sem_seg = PixelData(data=pred)
        samples.append(sample)
    return samples


def test_peekaboo_referring_writes_one_picture_per_expression(tmp_path):
    """The refcoco config's visualizer, driven by its hook, on 3 expressions of one image."""
    img_path = str(tmp_path / 'scene.png')
    Image.fromarray(np.full((32, 48, 3), 120, np.uint8)).save(img_path)
    cfg = Config.fromfile(REFCOCO_TOY)
    vis_cfg = dict(cfg.visualizer)
    vis_cfg.update(name=f'vis_{uuid.uuid4().hex}', save_dir=str(tmp_path / 'show'),
                   vis_backends=[dict(type='LocalVisBackend')])
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dict(classes=('background', 'object'),
                                   palette=[[0, 0, 0], [220, 20, 60]])
    hook_cfg = dict(cfg.default_hooks.visualization)
    assert hook_cfg['type'] == 'mmseg.SegVisualizationHook'
    hook = SegVisualizationHook(draw=True, interval=hook_cfg.get('interval', 50))
    expressions = ['the red circle', 'the small square on the left', 'the café sign']
    hook.after_test_iter(Namespace(iter=0), 0, {}, _referring_samples(img_path, expressions))

    pictures = sorted(glob.glob(str(tmp_path / 'show' / '**' / '*.png'), recursive=True))
    assert len(pictures) == 3, pictures  # one per expression, none overwritten
    assert [osp.basename(p) for p in pictures] == [
        f'test_scene.png_sent_id{100 + k}_0.png' for k in range(3)]
    drawn = [np.asarray(Image.open(p).convert('RGB')) for p in pictures]
    for img in drawn:
        assert img.shape[0] > 32 and img.shape[1] == 2 * 48  # gt | pred, and a text band under
    # the band carries each picture's own expression
    bands = [img[32:] for img in drawn]
    assert not np.array_equal(bands[0], bands[1]) and not np.array_equal(bands[1], bands[2])
    expected = text_band(2 * 48, ['"the red circle"'], font_size=visualizer.font_size)
    np.testing.assert_array_equal(bands[0], expected)


def test_referring_visualizer_names_without_ids_stay_unique():
    visualizer = ReferringSegLocalVisualizer(name=f'vis_{uuid.uuid4().hex}')
    sample = SegDataSample(metainfo=dict(text='a'))
    names = [visualizer.picture_name('test_x.jpg', sample) for _ in range(3)]
    assert names == ['test_x.jpg_expr0', 'test_x.jpg_expr1', 'test_x.jpg_expr2']
    assert visualizer.picture_name('test_x.jpg', SegDataSample(
        metainfo=dict(ref_id=5))) == 'test_x.jpg_ref_id5'


def _test_tool():
    spec = importlib.util.spec_from_file_location('mmgv_test_tool', osp.join(REPO, 'tools',
                                                                              'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_show_dir_paints_every_test_image(tmp_path):
    """--show-dir turns the hook's interval to 1, whatever the config says."""
    tool = _test_tool()
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py'))
    cfg.default_hooks.visualization.interval = 50  # mmseg's default, as the config had it
    args = Namespace(show=False, show_dir=str(tmp_path / 'vis'), wait_time=0)
    tool.trigger_visualization_hook(cfg, args)
    hook = cfg.default_hooks.visualization
    assert hook.draw is True and hook.interval == 1
    assert cfg.visualizer.save_dir == str(tmp_path / 'vis')


def test_every_config_paints_every_test_batch():
    """Each config with a stock visualization hook sets interval=1 itself (for runs that turn
    ``draw`` on without tools/test.py, e.g. mim test)."""
    checked = []
    for path in sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py'))):
        with open(path, encoding='utf-8') as f:
            source = f.read()
        if '_base_' not in source and 'VisualizationHook' not in source:
            continue
        cfg = Config.fromfile(path)
        hook = cfg.get('default_hooks', {}).get('visualization')
        if hook is None or not str(hook.get('type', '')).endswith('SegVisualizationHook'):
            continue
        checked.append(osp.relpath(path, REPO))
        assert hook.get('interval') == 1, f'{path}: {hook}'
    assert 'configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py' in checked
    assert 'configs/groupvit/groupvit_gcc-yfcc_zeroshot_voc.py' in checked
    assert 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-refcoco.py' in checked


def test_non_ascii_text_is_drawn():
    image = np.zeros((20, 120, 3), np.uint8)
    cafe = add_text_band(image, ['café olé'])
    # cv2.putText drew every non-ASCII character as "??"
    assert not np.array_equal(cafe, add_text_band(image, ['caf?? ol??']))
    assert not np.array_equal(cafe, add_text_band(image, ['cafe ole']))  # the accents show
    assert drawable_text('café olé') == 'café olé'
    # Greek and Cyrillic are in DejaVu Sans
    assert drawable_text('Ωmega Жук') == 'Ωmega Жук'
    # characters the font lacks: NFKD base letters when the font has them, else "?"
    assert drawable_text('東京') == '??'
    assert drawable_text('a\tb\nc') == 'a b c'


def test_named_masks_draw_non_ascii_names():
    image = np.zeros((40, 80, 3), np.uint8)
    masks = np.zeros((1, 40, 80), bool)
    masks[0, 10:30, 10:70] = True
    named = draw_named_masks(image, masks, ['crème'], palette=[(200, 0, 0)])
    assert not np.array_equal(named, draw_named_masks(image, masks, ['cr??me'],
                                                      palette=[(200, 0, 0)]))
    assert named[0, 0].tolist() == [0, 0, 0]  # outside the mask and the label: untouched
