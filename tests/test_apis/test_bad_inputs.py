# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A folder of good and bad images through every Inferencer and every demo CLI: each good image is
predicted and written, each bad one (empty, a text file named .jpg, a truncated JPEG, a missing
path) is reported once with its path and cause, and the CLIs exit non-zero at the end."""
import importlib.util
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO_ROOT, TOY_SEG_CONFIG, run_tool
from mmgen_vision.apis import PainterInferencer, SegInferencer, XDecoderInferencer
from mmgen_vision.registry import MODELS
from mmgen_vision.utils import ImageReadError, load_config, register_all_modules

XDECODER_CONFIG = osp.join(REPO_ROOT, 'configs', 'xdecoder', 'xdecoder_toy_shapesworld-joint.py')
GROUPVIT_CONFIG = osp.join(REPO_ROOT, 'configs', 'groupvit',
                           'groupvit_toy_shapesworld-voc-zeroshot.py')
GOOD = {'a_good': (40, 30), 'b_good': (24, 32)}  # stem -> (H, W)
BAD = ['c_empty.jpg', 'd_text.jpg', 'e_truncated.jpg', 'f_missing.png']
REASONS = ['empty', 'not an image', 'truncated', 'missing']


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    """``imgs/`` with two good images and three bad files, plus a missing path."""
    root = tmp_path_factory.mktemp('bad_inputs')
    folder = root / 'imgs'
    folder.mkdir()
    rng = np.random.default_rng(0)
    good = []
    for (stem, shape), ext in zip(GOOD.items(), ('.png', '.jpg')):
        good.append(str(folder / (stem + ext)))
        cv2.imwrite(good[-1], rng.integers(0, 255, shape + (3, ), dtype=np.uint8))
    (folder / 'c_empty.jpg').write_bytes(b'')
    (folder / 'd_text.jpg').write_text('a text file with an image name\n')
    jpeg = open(good[1], 'rb').read()
    (folder / 'e_truncated.jpg').write_bytes(jpeg[:len(jpeg) // 2])
    prompt = str(root / 'prompt.png')
    cv2.imwrite(prompt, rng.integers(0, 255, (24, 20, 3), dtype=np.uint8))
    return dict(folder=str(folder), missing=str(folder / 'f_missing.png'), good=good,
                bad=[str(folder / name) for name in BAD], prompt=prompt)


def _check_failures(failures, inputs):
    assert all(isinstance(err, ImageReadError) for err in failures)
    assert [err.path for err in failures] == inputs['bad']
    assert [err.reason for err in failures] == REASONS


def _check_outputs(out_dir, suffixes):
    expected = sorted(f'{stem}_{suffix}.png' for stem in GOOD for suffix in suffixes)
    assert sorted(os.listdir(out_dir)) == expected


def _check_report(text, inputs):
    """Each failure named once with its cause, the good images not at all as failures."""
    for path, reason in zip(inputs['bad'], REASONS):
        assert text.count(path) == 1, (path, text)
        line = next(line for line in text.splitlines() if path in line)
        assert reason in line
    assert '4 of 6 images could not be read' in text


def _demo(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, 'demo', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------- SegInferencer
@pytest.fixture(scope='module')
def seg_inferencer():
    torch.manual_seed(0)
    return SegInferencer(load_config(TOY_SEG_CONFIG), 'none', device='cpu')


def test_seg_inferencer_writes_one_picture_per_input_with_its_sentence(seg_inferencer, inputs,
                                                                       tmp_path):
    """One image with several sentences (a referring model's ``texts=``): one picture per
    input, none overwritten, each with its sentence under it."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    path = inputs['good'][0]
    h, w = cv2.imread(path).shape[:2]
    preds = []
    for k, text in enumerate(['the red circle', 'the blue star']):
        pred = SegDataSample(metainfo=dict(text=text))
        pred.pred_sem_seg = PixelData(data=torch.full((1, h, w), k, dtype=torch.long))
        preds.append(pred)
    seg_inferencer._input_index = [0, 1]
    painted = seg_inferencer.visualize([path, path], preds, out_dir=str(tmp_path))
    stem = osp.splitext(osp.basename(path))[0]
    files = sorted(f.name for f in tmp_path.iterdir())
    assert files == [f'{stem}_00001_seg.png', f'{stem}_seg.png']
    assert all(p.shape[0] > h and p.shape[1] == w for p in painted)  # the sentence band
    assert not np.array_equal(painted[0], painted[1])


def test_seg_inferencer_predicts_the_good_and_reports_the_bad(seg_inferencer, inputs, tmp_path):
    result = seg_inferencer([inputs['folder'], inputs['missing']], out_dir=str(tmp_path),
                            batch_size=2)
    _check_failures(result['failures'], inputs)
    assert [p.shape for p in result['predictions']] == list(GOOD.values())
    _check_outputs(tmp_path, ['seg'])
    # the bad files change nothing for the good ones
    alone = seg_inferencer(inputs['good'], batch_size=2)
    assert alone['failures'] == []
    for a, b in zip(result['predictions'], alone['predictions']):
        np.testing.assert_array_equal(a, b)
    # per-image texts follow their images
    texts = seg_inferencer([inputs['good'][0], inputs['bad'][0], inputs['good'][1]],
                           texts=['one', 'two', 'three'])
    assert len(texts['predictions']) == 2 and len(texts['failures']) == 1
    # a single image that cannot be read is an error naming it
    for path, reason in zip(inputs['bad'], REASONS):
        with pytest.raises(ImageReadError, match=reason) as err:
            seg_inferencer(path)
        assert err.value.path == path


def test_seg_inferencer_arrays(seg_inferencer, tmp_path):
    good = np.random.default_rng(1).integers(0, 65535, (20, 24, 3), dtype=np.uint16)
    channel_first = np.zeros((3, 20, 24), np.uint8)
    result = seg_inferencer([channel_first, good], out_dir=str(tmp_path))
    assert [err.path for err in result['failures']] == ['inputs[0] (array)']
    assert result['failures'][0].reason == 'unreadable mode'
    assert result['predictions'][0].shape == (20, 24)
    assert os.listdir(tmp_path) == ['00001_seg.png']  # named by its place in the inputs
    scaled = ((good.astype(np.float64) * 255 / 65535).round()).astype(np.uint8)
    np.testing.assert_array_equal(seg_inferencer(scaled)['predictions'][0],
                                  result['predictions'][0])


# ------------------------------------------------------------------------- X-Decoder
def test_xdecoder_inferencer_and_demo(inputs, tmp_path, capsys):
    torch.manual_seed(0)
    inferencer = XDecoderInferencer(XDECODER_CONFIG, 'none', device='cpu')
    result = inferencer([inputs['folder'], inputs['missing']], task='semantic',
                        classes=['red circle', 'sky'], out_dir=str(tmp_path / 'api'))
    _check_failures(result['failures'], inputs)
    assert [p['sem_seg'].shape for p in result['predictions']] == list(GOOD.values())
    _check_outputs(tmp_path / 'api', ['semantic'])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _demo('xdecoder_demo').main([
            inputs['folder'], inputs['missing'], XDECODER_CONFIG, 'none', '--task', 'semantic',
            '--classes', 'red circle', 'sky', '--out-dir', str(tmp_path / 'cli'), '--device',
            'cpu'
        ])
    assert isinstance(exit_.value.code, str)  # printed to stderr, exit status 1
    captured = capsys.readouterr()
    _check_report(captured.out + captured.err + exit_.value.code, inputs)
    _check_outputs(tmp_path / 'cli', ['semantic'])
    assert captured.out.count('saved ') == 2


# ------------------------------------------------------------------------- GroupViT demo
def test_groupvit_demo(inputs, tmp_path, capsys):
    from mmengine.config import Config
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(GROUPVIT_CONFIG).model)
    checkpoint = str(tmp_path / 'groupvit.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _demo('groupvit_demo').main([inputs['folder'], inputs['missing'], GROUPVIT_CONFIG,
                                     checkpoint, '--out-dir', str(tmp_path / 'cli'),
                                     '--device', 'cpu'])
    assert isinstance(exit_.value.code, str)
    captured = capsys.readouterr()
    _check_report(captured.out + captured.err + exit_.value.code, inputs)
    _check_outputs(tmp_path / 'cli', ['groups', 'seg', 'seg_color'])
    seg = np.asarray(Image.open(tmp_path / 'cli' / 'a_good_seg.png'))
    assert seg.shape == GOOD['a_good']


# ------------------------------------------------------------------------- Painter
def _tiny_painter_cfg():
    return dict(
        type='Painter',
        backbone=dict(type='PainterViT', img_size=(32, 16), patch_size=4, embed_dims=32,
                      num_layers=5, num_heads=2, drop_path_rate=0., pretrain_img_size=16,
                      merge_index=1, out_indices=(1, 2, 3, 4)),
        head=dict(type='PainterHead', in_channels=32, num_taps=4, patch_size=4, embed_dims=8),
        codecs=dict(semantic=dict(type='SemanticCodec', num_classes=7)))


@pytest.fixture(scope='module')
def painter_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('painter')
    config = root / 'painter_tiny.py'
    cfg = _tiny_painter_cfg()
    config.write_text(f"default_scope = 'mmgen_vision'\nmodel = {cfg!r}\n")
    register_all_modules()
    torch.manual_seed(0)
    checkpoint = str(root / 'tiny.pth')
    torch.save({'state_dict': MODELS.build(cfg).state_dict(), 'meta': {}}, checkpoint)
    return str(config), checkpoint


def test_painter_inferencer(painter_files, inputs, tmp_path):
    inferencer = PainterInferencer(*painter_files)
    prompt = inputs['prompt']
    result = inferencer(prompt, prompt, [inputs['folder'], inputs['missing']],
                        out_dir=str(tmp_path), batch_size=2)
    _check_failures(result['failures'], inputs)
    assert [p.shape[:2] for p in result['predictions']] == list(GOOD.values())
    _check_outputs(tmp_path, ['pred', 'vis'])
    alone = inferencer(prompt, prompt, inputs['good'], batch_size=2)
    for a, b in zip(result['predictions'], alone['predictions']):
        np.testing.assert_array_equal(a, b)
    # a bad prompt or a single bad query: nothing to predict, an error naming the file
    for path, reason in zip(inputs['bad'], REASONS):
        with pytest.raises(ImageReadError, match=reason) as err:
            inferencer(path, prompt, inputs['good'])
        assert err.value.path == path
        with pytest.raises(ImageReadError, match=reason) as err:
            inferencer(prompt, prompt, path)
        assert err.value.path == path
    # in-memory queries: float [0, 1] and grayscale read like their uint8 colour versions
    gray = np.random.default_rng(2).integers(0, 255, (24, 32), dtype=np.uint8)
    as_float = inferencer(prompt, prompt, [gray.astype(np.float32) / 255, np.dstack([gray] * 3)])
    np.testing.assert_array_equal(*as_float['predictions'])


def test_painter_demo_cli(painter_files, inputs, tmp_path):
    out_dir = tmp_path / 'demo'
    proc = run_tool(['demo/painter_demo.py', *painter_files, '--prompt-img', inputs['prompt'],
                     '--prompt-target', inputs['prompt'], '--queries', inputs['folder'],
                     inputs['missing'], '--out-dir', str(out_dir)], check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    _check_report(proc.stdout + proc.stderr, inputs)
    assert proc.stdout.startswith('wrote 2 predictions')
    _check_outputs(out_dir, ['pred', 'vis'])
