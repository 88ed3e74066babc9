# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The one image reader (mmgen_vision/utils/image_io.py): every kind of bad file is named with its
cause, arrays are normalised explicitly, valid files decode exactly as the stock loaders did, and
the loading transforms of our scope use it."""
import importlib.util
import os.path as osp
import pickle

import cv2
import mmcv
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile as StockLoadImageFromFile
from mmengine.registry import init_default_scope

from conftest import REPO_ROOT
from mmgen_vision.registry import TRANSFORMS
from mmgen_vision.utils import (ImageNotFoundError, ImageReadError, expand_image_inputs,
                                image_array_to_uint8, read_image, read_image_file)


def _pattern(h=24, w=32, seed=0):
    """A smooth colour image (JPEG keeps it recognisable) with some noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (h + w)], axis=2)
    return np.clip(img + rng.integers(0, 20, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture()
def files(tmp_path):
    """One file of every kind, good and bad."""
    paths = {}
    img = _pattern()
    paths['png'] = str(tmp_path / 'good.png')
    cv2.imwrite(paths['png'], img)
    paths['jpg'] = str(tmp_path / 'good.jpg')
    cv2.imwrite(paths['jpg'], img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    paths['gray_png'] = str(tmp_path / 'gray.png')
    cv2.imwrite(paths['gray_png'], img[..., 0])
    paths['rgba_png'] = str(tmp_path / 'rgba.png')
    cv2.imwrite(paths['rgba_png'], np.dstack([img, np.full(img.shape[:2], 7, np.uint8)]))
    paths['empty'] = str(tmp_path / 'empty.jpg')
    open(paths['empty'], 'wb').close()
    paths['text'] = str(tmp_path / 'notes.jpg')
    with open(paths['text'], 'w') as f:
        f.write('this is a text file, not a picture\n')
    jpeg = open(paths['jpg'], 'rb').read()
    paths['truncated_jpg'] = str(tmp_path / 'cut.jpg')
    with open(paths['truncated_jpg'], 'wb') as f:
        f.write(jpeg[:len(jpeg) * 2 // 3])
    png = open(paths['png'], 'rb').read()
    paths['truncated_png'] = str(tmp_path / 'cut.png')
    with open(paths['truncated_png'], 'wb') as f:
        f.write(png[:len(png) // 2])
    # a PNG signature and an end chunk around bytes no decoder takes
    paths['bad_mode'] = str(tmp_path / 'odd.png')
    with open(paths['bad_mode'], 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + b'\x00\x00\x00\x0dIHDR' + b'\x07' * 40 + b'IEND\xaeB`\x82')
    paths['missing'] = str(tmp_path / 'nope.png')
    paths['folder'] = str(tmp_path / 'a_folder.jpg')
    (tmp_path / 'a_folder.jpg').mkdir()
    return paths


BAD = [('empty', 'empty'), ('text', 'not an image'), ('truncated_jpg', 'truncated'),
       ('truncated_png', 'truncated'), ('bad_mode', 'unreadable mode'), ('missing', 'missing'),
       ('folder', 'not a file')]


@pytest.mark.parametrize('kind,reason', BAD, ids=[b[0] for b in BAD])
def test_each_bad_file_names_the_path_and_the_cause(files, kind, reason):
    path = files[kind]
    for order in ('rgb', 'bgr'):
        with pytest.raises(ImageReadError) as err:
            read_image(path, channel_order=order)
        assert err.value.path == path and err.value.reason == reason
        assert path in str(err.value) and reason in str(err.value)
    # the same error, pickled through a data-loader worker or a process pool
    again = pickle.loads(pickle.dumps(err.value))
    assert (type(again), again.path, again.reason, str(again)) == (
        type(err.value), path, reason, str(err.value))


def test_error_classes():
    missing = ImageNotFoundError('a.jpg')
    assert isinstance(missing, FileNotFoundError) and isinstance(missing, ValueError)
    assert missing.reason == 'missing'
    truncated = ImageReadError('b.jpg', 'truncated', 'no end marker')
    assert isinstance(truncated, ValueError) and isinstance(truncated, OSError)
    assert str(truncated) == 'cannot read image b.jpg: truncated (no end marker)'
    with pytest.raises(ValueError, match='unknown image-read reason'):
        ImageReadError('c.jpg', 'cosmic rays')


def test_valid_files_read_exactly_like_mmcv(files):
    for kind in ('png', 'jpg', 'gray_png', 'rgba_png'):
        for order in ('rgb', 'bgr'):
            ours = read_image(files[kind], channel_order=order)
            stock = mmcv.imread(files[kind], channel_order=order)
            assert ours.dtype == np.uint8 and ours.shape == (24, 32, 3)
            np.testing.assert_array_equal(ours, stock)
    # grayscale files give three equal channels; the alpha of a file is dropped (cv2's colour)
    gray = read_image(files['gray_png'])
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    np.testing.assert_array_equal(read_image(files['rgba_png']), read_image(files['png']))
    # other flags keep the file's own type (uint16 depth)
    depth = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    cv2.imwrite(files['png'], depth)
    np.testing.assert_array_equal(read_image_file(files['png'], flag='unchanged'), depth)


def test_trailing_bytes_after_a_complete_jpeg_are_accepted(files, tmp_path):
    path = str(tmp_path / 'trailer.jpg')
    with open(path, 'wb') as f:
        f.write(open(files['jpg'], 'rb').read() + b'\x00' * 16 + b'camera maker notes')
    np.testing.assert_array_equal(read_image(path), read_image(files['jpg']))


def test_uint16_arrays_are_scaled_by_their_range_not_wrapped():
    arr = np.array([[0, 256, 257, 32896, 65535]], dtype=np.uint16)
    out = read_image(arr)
    assert out.shape == (1, 5, 3) and out.dtype == np.uint8
    assert out[0, :, 0].tolist() == [0, 1, 1, 128, 255]
    assert arr.astype(np.uint8)[0].tolist() != out[0, :, 0].tolist()  # what astype gives


def test_float_arrays_in_unit_and_byte_ranges():
    unit = np.array([[0., 0.2, 1.0]], dtype=np.float32)
    assert read_image(unit)[0, :, 0].tolist() == [0, 51, 255]
    byte = np.array([[0., 51., 254.6]], dtype=np.float64)
    assert read_image(byte)[0, :, 0].tolist() == [0, 51, 255]
    for bad, why in ((np.array([[-0.5, 0.5]]), r'\[-0.5, 0.5\]'),
                     (np.array([[0., 300.]]), r'\[0, 300\]'),
                     (np.array([[0., np.nan]]), 'NaN')):
        with pytest.raises(ImageReadError, match=why) as err:
            read_image(bad, name='inputs[2] (array)')
        assert err.value.reason == 'unreadable mode' and err.value.path == 'inputs[2] (array)'


def test_rgba_grayscale_and_other_shapes():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = [200, 100, 0]
    rgba[..., 3] = [[0, 255], [51, 255]]
    np.testing.assert_array_equal(read_image(rgba), rgba[..., :3])  # default: alpha dropped
    white = read_image(rgba, alpha='white')
    assert white[0, 0].tolist() == [255, 255, 255]  # transparent -> the background
    assert white[0, 1].tolist() == [200, 100, 0]  # opaque -> the colour
    assert white[1, 0].tolist() == [244, 224, 204]  # 20 % colour over white
    gray = np.array([[0, 9], [90, 255]], np.uint8)
    for arr in (gray, gray[..., None]):
        out = read_image(arr)
        assert out.shape == (2, 2, 3) and (out == gray[..., None]).all()
    gray_alpha = np.dstack([gray, np.full_like(gray, 255)])
    np.testing.assert_array_equal(read_image(gray_alpha), read_image(gray))
    assert read_image(np.array([[True, False]]))[0, :, 0].tolist() == [255, 0]
    assert read_image(np.array([[3, 250]], np.int64))[0, :, 0].tolist() == [3, 250]
    cases = [(np.zeros((3, 8, 9), np.uint8), 'channel-first', 'unreadable mode'),
             (np.zeros((4, 4, 5), np.uint8), r'\(4, 4, 5\)', 'unreadable mode'),
             (np.zeros((2, 4, 4, 3), np.uint8), 'shape', 'unreadable mode'),
             (np.zeros((0, 4, 3), np.uint8), 'shape', 'empty'),
             (np.array([[-1, 300]], np.int32), r'\[-1, 300\]', 'unreadable mode'),
             (np.zeros((2, 2), np.complex64), 'complex64', 'unreadable mode')]
    for arr, why, reason in cases:
        with pytest.raises(ImageReadError, match=why) as err:
            read_image(arr)
        assert err.value.reason == reason
    with pytest.raises(TypeError, match='path or a numpy array'):
        read_image(3)
    # a uint8 colour image passes through unchanged (no channel swap: arrays are in the
    # requested order already)
    img = _pattern()
    np.testing.assert_array_equal(image_array_to_uint8(img), img)
    np.testing.assert_array_equal(read_image(img, channel_order='bgr'), img)


def test_expand_image_inputs(files, tmp_path):
    arr = np.zeros((2, 2, 3), np.uint8)
    items = expand_image_inputs([str(tmp_path), files['missing'], arr])
    names = [i.rsplit('/', 1)[-1] for i in items[:-2]]
    # sorted image files of the folder; its sub-folder and the non-image names are skipped
    assert names == ['cut.jpg', 'cut.png', 'empty.jpg', 'good.jpg', 'good.png', 'gray.png',
                     'notes.jpg', 'odd.png', 'rgba.png']
    assert items[-2] == files['missing'] and items[-1] is arr


def test_load_image_from_file_of_our_scope(files):
    """``dict(type='LoadImageFromFile')`` in our scope: the stock pixels, named failures."""
    init_default_scope('mmgen_vision')
    ours = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    assert type(ours).__module__ == 'mmgen_vision.datasets.transforms.loading'
    assert isinstance(ours, StockLoadImageFromFile)
    for kwargs in (dict(), dict(to_float32=True), dict(color_type='grayscale'),
                   dict(imdecode_backend='pillow')):
        ours = TRANSFORMS.build(dict(type='LoadImageFromFile', **kwargs))
        stock = StockLoadImageFromFile(**kwargs)
        for kind in ('png', 'jpg', 'gray_png', 'rgba_png'):
            a = ours(dict(img_path=files[kind]))
            b = stock(dict(img_path=files[kind]))
            assert a['img'].dtype == b['img'].dtype and a['ori_shape'] == b['ori_shape']
            np.testing.assert_array_equal(a['img'], b['img'])
    loader = TRANSFORMS.build(dict(type='LoadImageFromFile'))
    for kind, reason in BAD:
        with pytest.raises(ImageReadError) as err:
            loader(dict(img_path=files[kind]))
        assert err.value.path == files[kind] and err.value.reason == reason
    skipping = TRANSFORMS.build(dict(type='LoadImageFromFile', ignore_empty=True))
    assert skipping(dict(img_path=files['empty'])) is None


def test_paired_and_shard_loaders_name_the_file(files):
    init_default_scope('mmgen_vision')
    paired = TRANSFORMS.build(dict(type='LoadPairedImage'))
    with pytest.raises(ImageReadError, match='empty') as err:
        paired(dict(gt_img_path=files['empty']))
    assert err.value.path == files['empty']
    shard = TRANSFORMS.build(dict(type='LoadImageFromShard'))
    with pytest.raises(ImageReadError, match='truncated') as err:
        shard(dict(img_path=files['truncated_jpg']))
    assert err.value.path == files['truncated_jpg']
    out = shard(dict(img_path=files['jpg']))
    np.testing.assert_array_equal(out['img'], mmcv.imread(files['jpg']))


def _converter(name):
    path = osp.join(REPO_ROOT, 'tools', 'dataset_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converters_refuse_broken_images_by_name(files, tmp_path):
    """Converters of image folders stop at a broken image, naming it, instead of copying it
    into the dataset (a truncated PNG used to be copied as is)."""
    restoration = _converter('painter_restoration')
    out_in, out_gt = str(tmp_path / 'o_in'), str(tmp_path / 'o_gt')
    assert restoration.write([(files['jpg'], files['png'], 'ok.png')], out_in, out_gt) == 1
    for kind, reason in (('truncated_png', 'truncated'), ('text', 'not an image')):
        with pytest.raises(ImageReadError, match=reason) as err:
            restoration.write([(files[kind], files['png'], 'x.png')], out_in, out_gt)
        assert err.value.path == files[kind]
    shards = _converter('images_to_shards')
    list_file = tmp_path / 'list.csv'
    list_file.write_text(f'image,caption\n{files["jpg"]},a picture\n'
                         f'{files["truncated_jpg"]},half a picture\n')
    with pytest.raises(ImageReadError, match=r'cut\.jpg \(entry 1 of .*list\.csv\): truncated'):
        shards.images_to_shards(str(list_file), str(tmp_path / 'shards'))
    assert not (tmp_path / 'shards').exists()  # checked before anything is written
