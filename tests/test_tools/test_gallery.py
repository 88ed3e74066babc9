# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/misc/gallery.py: the page and contact sheet from fake predictions, the size limit, and
real galleries of tiny random models through the Inferencers (every image the page references
exists and decodes)."""
import html.parser
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, TOY_SEG_CONFIG, load_script

GALLERY = osp.join(REPO_ROOT, 'tools', 'misc', 'gallery.py')


@pytest.fixture(scope='module')
def gallery():
    return load_script(GALLERY, 'gallery_under_test')


class _Images(html.parser.HTMLParser):
    """The ``src`` of every ``<img>`` of a page."""

    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == 'img':
            self.sources.append(dict(attrs)['src'])


def check_page(html_path: str) -> list:
    """Every image the page references exists next to it and decodes; return the sources."""
    parser = _Images()
    with open(html_path, encoding='utf-8') as f:
        parser.feed(f.read())
    assert parser.sources, 'the page shows no image'
    for src in parser.sources:
        assert not osp.isabs(src) and '://' not in src, src  # static, relative to the page
        path = osp.join(osp.dirname(html_path), src)
        assert osp.isfile(path), src
        with Image.open(path) as img:
            img.load()  # decodes
            assert img.width > 0 and img.height > 0
    return parser.sources


def _fake_gallery(gallery, num_scenes=3):
    rng = np.random.default_rng(0)
    scenes = []
    for i in range(num_scenes):
        labels = rng.integers(0, 3, size=(64, 64))
        palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0]], np.uint8)
        scenes.append(gallery.Scene(f'scene_{i}.jpg', [
            ('input', rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)),
            ('ground truth', palette[labels]),
            ('alpha', rng.random((32, 32))),  # grey float in [0, 1]
            ('prediction', palette[labels[::-1]]),
        ], [f'expression: "the red thing number {i}"', 'caption: a café with ünïcode']))
    return gallery.Gallery('fake gallery <&>', scenes,
                           notes=['a long note ' * 30, 'mIoU 12.3 vs chance 4.5'],
                           legend=[('background', (0, 0, 0)), ('red', (255, 0, 0)),
                                   ('green', (0, 255, 0))])


def test_page_and_contact_sheet_from_fake_predictions(gallery, tmp_path):
    fake = _fake_gallery(gallery)
    paths = gallery.write_gallery(fake, str(tmp_path / 'g'))
    sources = check_page(paths['html'])
    assert 'contact_sheet.png' in sources
    assert len(sources) == 1 + 3 * 4  # the sheet + one picture per panel
    page = open(paths['html'], encoding='utf-8').read()
    assert 'fake gallery &lt;&amp;&gt;' in page  # text is escaped
    assert 'café with ünïcode' in page
    with Image.open(paths['contact_sheet']) as sheet:
        width, height = sheet.size
    # four 128-pixel columns side by side, three 128-pixel rows plus their text
    assert width >= 4 * 128 and height >= 3 * 128 + 3 * 2 * 12
    assert osp.getsize(paths['contact_sheet']) <= 200 * 1024


def test_contact_sheet_draws_text_and_panels(gallery):
    fake = _fake_gallery(gallery, num_scenes=1)
    sheet = np.asarray(gallery.contact_sheet(fake))
    # the title band holds dark text pixels; the panel row holds the (bright red / green)
    # prediction colours scaled up
    assert (sheet[:30].min(axis=2) < 100).any()
    assert ((sheet[..., 0] == 255) & (sheet[..., 1] == 0)).sum() > 64 * 64


def test_scenes_need_the_same_columns(gallery, tmp_path):
    fake = _fake_gallery(gallery, num_scenes=2)
    fake.scenes[1].panels = fake.scenes[1].panels[:2]
    with pytest.raises(ValueError, match='columns'):
        gallery.write_gallery(fake, str(tmp_path))


def test_save_png_keeps_under_the_limit(gallery, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, size=(240, 240, 3), dtype=np.uint8)
    path = str(tmp_path / 'noise.png')
    written = gallery.save_png(Image.fromarray(noise), path, max_kb=40)
    assert osp.getsize(path) <= 40 * 1024
    assert written.width < 240  # noise does not compress: it had to shrink
    with Image.open(path) as img:
        img.load()
    small = str(tmp_path / 'flat.png')
    gallery.save_png(Image.new('RGB', (300, 200), (10, 20, 30)), small, max_kb=100)
    with Image.open(small) as img:
        assert img.size == (300, 200) and img.mode == 'RGB'  # nothing to do: kept as it is


def test_wrap_text_fits_the_width(gallery):
    from mmgen_vision.visualization.text import text_size
    lines = gallery.wrap_text('word ' * 80, 200, 12)
    assert len(lines) > 1
    assert all(text_size(line, 12)[0] <= 200 for line in lines)
    assert ' '.join(lines).split() == ['word'] * 80


@pytest.fixture(scope='module')
def tiny_shapesworld(tmp_path_factory) -> str:
    from mmgen_vision.datasets import generate_shapesworld
    root = str(tmp_path_factory.mktemp('gallery_sw'))
    generate_shapesworld(root, num_train=2, num_val=3, image_size=64, seed=0,
                         formats=('ade', 'voc', 'coco'))
    return root


def test_segmentor_gallery_through_seg_inferencer(gallery, tiny_shapesworld, tmp_path):
    """A random FCN (weights ``none``) through SegInferencer on generated val scenes."""
    ade = osp.join(tiny_shapesworld, 'ade', 'ADEChallengeData2016')
    out_dir = str(tmp_path / 'seg')
    paths = gallery.main(['seg', TOY_SEG_CONFIG, 'none', '--out-dir', out_dir, '--num-scenes',
                          '2', '--notes', 'a random FCN', '--cfg-options',
                          f'test_dataloader.dataset.data_root={ade}'])
    sources = check_page(paths['html'])
    assert len(sources) == 1 + 2 * 3  # input | ground truth | prediction, two scenes
    page = open(paths['html'], encoding='utf-8').read()
    assert 'ADE_val_00000001.jpg' in page and 'a random FCN' in page
    assert 'circle' in page  # the class legend


def test_painter_gallery_through_painter_inferencer(gallery, tiny_shapesworld, tmp_path):
    """A random toy Painter in context: the prompt pair of the test config is shown."""
    config = osp.join(REPO_ROOT,
                      'configs/painter/painter_vit-tiny-p4_toy-shapesworld_semseg.py')
    ade = osp.join(tiny_shapesworld, 'ade', 'ADEChallengeData2016')
    paths = gallery.main(['painter', config, 'none', '--out-dir', str(tmp_path / 'painter'),
                          '--num-scenes', '2', '--cfg-options',
                          f'test_dataloader.dataset.dataset.data_root={ade}',
                          f'test_dataloader.dataset.prompt.dataset.data_root={ade}'])
    check_page(paths['html'])
    page = open(paths['html'], encoding='utf-8').read()
    for column in ('prompt', 'prompt target', 'input', 'ground truth', 'painting',
                   'prediction'):
        assert f'<th>{column}</th>' in page
    assert 'ADE_train_00000001.jpg' in page  # the prompt: training scene 0


def test_groupvit_gallery_shows_the_group_map(gallery, tiny_shapesworld, tmp_path):
    """A random toy GroupViT zero-shot: the group map column comes from the model."""
    config = osp.join(REPO_ROOT, 'configs/groupvit/groupvit_toy_shapesworld-voc-zeroshot.py')
    voc = osp.join(tiny_shapesworld, 'voc', 'VOCdevkit', 'VOC2012')
    paths = gallery.main(['groupvit', config, 'none', '--out-dir', str(tmp_path / 'groupvit'),
                          '--num-scenes', '2', '--cfg-options',
                          f'test_dataloader.dataset.data_root={voc}'])
    assert len(check_page(paths['html'])) == 1 + 2 * 4
    page = open(paths['html'], encoding='utf-8').read()
    assert '<th>group map</th>' in page and 'groups; predicted:' in page


def test_xdecoder_gallery_names_classes_and_captions(gallery, tiny_shapesworld, tmp_path):
    """A random toy X-Decoder: open-vocabulary classes of the config and a generated caption."""
    config = osp.join(REPO_ROOT, 'configs/xdecoder/xdecoder_toy_shapesworld-openvocab-test.py')
    coco = osp.join(tiny_shapesworld, 'coco') + '/'
    paths = gallery.main(['xdecoder', config, 'none', '--out-dir', str(tmp_path / 'xdecoder'),
                          '--num-scenes', '2', '--cfg-options',
                          f'test_dataloader.dataset.data_root={coco}'])
    assert len(check_page(paths['html'])) == 1 + 2 * 3
    page = open(paths['html'], encoding='utf-8').read()
    assert '&quot;star shape&quot;' in page and 'generated caption:' in page
