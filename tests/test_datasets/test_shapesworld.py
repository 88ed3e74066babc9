# Copyright (c) mmgen_vision contributors. All rights reserved.
"""ShapesWorld: determinism, parameter checks, and every format read back by its stock class."""
import io
import json
import os.path as osp
import pickle
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mmgen_vision.datasets.shapesworld import (CATEGORY_IDS, CLASSES, FORMATS, SHAPESWORLD_META,
                                               THING_CLASSES, generate_shapesworld, render_scene,
                                               rgb_to_id, rle_encode)
from mmgen_vision.datasets.shapesworld.degrade import psnr

NUM_TRAIN, NUM_VAL, SIZE, SEED = 8, 4, 64, 0
COLOR_WORDS = ('red', 'green', 'blue', 'yellow')
PANOPTIC_META = dict(classes=SHAPESWORLD_META['classes'],
                     thing_classes=SHAPESWORLD_META['thing_classes'],
                     stuff_classes=SHAPESWORLD_META['stuff_classes'])


@pytest.fixture(scope='module')
def world(tmp_path_factory) -> Path:
    """A small ShapesWorld with every format, generated once for this module."""
    out = tmp_path_factory.mktemp('sw') / 'world'
    roots = generate_shapesworld(out,
                                 num_train=NUM_TRAIN,
                                 num_val=NUM_VAL,
                                 image_size=SIZE,
                                 seed=SEED,
                                 samples_per_shard=3)
    assert set(roots) == set(FORMATS)
    return out


def scene_of(image_id: int):
    """Re-render the scene behind a COCO image id of the module dataset."""
    if image_id <= NUM_TRAIN:
        return render_scene(SEED, 'train', image_id - 1, SIZE)
    return render_scene(SEED, 'val', image_id - NUM_TRAIN - 1, SIZE)


def read_image(path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as img:
        return np.array(img)


def nearest_color(rgb: np.ndarray) -> str:
    """Name of the palette colour (shape colours + the person's black) nearest to ``rgb``."""
    table = dict(SHAPESWORLD_META['colors'], black=SHAPESWORLD_META['person_color'])
    names = list(table)
    dists = [np.linalg.norm(np.asarray(table[n], float) - rgb) for n in names]
    return names[int(np.argmin(dists))]


def interior_color(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median colour of the mask pixels whose 4-neighbours are all in the mask (JPEG-robust)."""
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    pick = inner if inner.sum() >= 4 else mask
    return np.median(image[pick].astype(float), axis=0)


# ----------------------------------------------------------------------------- generator


def test_meta():
    assert SHAPESWORLD_META['thing_classes'] == ('circle', 'square', 'triangle', 'star', 'person')
    assert SHAPESWORLD_META['stuff_classes'] == ('sky', 'ground')
    assert SHAPESWORLD_META['classes'] == CLASSES
    assert len(SHAPESWORLD_META['palette']) == len(CLASSES)
    assert sorted(SHAPESWORLD_META['category_ids'].values()) == list(range(1, len(CLASSES) + 1))
    assert len(SHAPESWORLD_META['keypoint_names']) == 17


@pytest.mark.parametrize('kwargs, name', [
    (dict(image_size=63), 'image_size'),
    (dict(image_size=129), 'image_size'),
    (dict(image_size=96.0), 'image_size'),
    (dict(num_train=0), 'num_train'),
    (dict(num_val=-1), 'num_val'),
    (dict(seed=-1), 'seed'),
    (dict(formats=['coco', 'kitti']), 'formats'),
    (dict(formats=[]), 'formats'),
    (dict(samples_per_shard=0), 'samples_per_shard'),
])
def test_bad_parameters(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        generate_shapesworld(tmp_path / 'sw', **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_determinism_and_caching(world, tmp_path):
    ann = 'coco/annotations/instances_train2017.json'
    img = 'coco/train2017/000000000003.jpg'
    same = tmp_path / 'same'
    generate_shapesworld(same, NUM_TRAIN, NUM_VAL, SIZE, SEED, formats='coco')
    for rel in (ann, img, 'coco/annotations/panoptic_val2017/000000000010.png'):
        assert (same / rel).read_bytes() == (world / rel).read_bytes(), rel
    other = tmp_path / 'other'
    generate_shapesworld(other, NUM_TRAIN, NUM_VAL, SIZE, SEED + 1, formats=['coco'])
    assert (other / ann).read_bytes() != (world / ann).read_bytes()
    assert (other / img).read_bytes() != (world / img).read_bytes()
    # a second call is a no-op; asking for a new format keeps the old ones
    stamp = (same / 'meta.json').stat().st_mtime_ns
    generate_shapesworld(same, NUM_TRAIN, NUM_VAL, SIZE, SEED, formats=['coco'])
    assert (same / 'meta.json').stat().st_mtime_ns == stamp
    roots = generate_shapesworld(same, NUM_TRAIN, NUM_VAL, SIZE, SEED, formats=['imagenet'])
    assert list(roots) == ['imagenet']
    meta = json.loads((same / 'meta.json').read_text())
    assert meta['formats'] == ['coco', 'imagenet'] and meta['version']
    assert (same / ann).read_bytes() == (world / ann).read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    from mmgen_vision.datasets.shapesworld import writers

    def boom(self, record):
        raise RuntimeError('interrupted')

    monkeypatch.setattr(writers.NyuWriter, 'add', boom)
    with pytest.raises(RuntimeError, match='interrupted'):
        generate_shapesworld(tmp_path / 'sw', 2, 1, SIZE, SEED)
    assert list(tmp_path.iterdir()) == []
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('user data')
    with pytest.raises(FileExistsError):
        generate_shapesworld(foreign, 2, 1, SIZE, SEED, formats='imagenet')
    assert (foreign / 'keep.txt').exists()


def test_another_shapesworld_is_kept(tmp_path):
    """A dataset with other scene parameters is never replaced unasked (a main job asking for
    1 training scene once replaced the documented 1024-scene set in the same folder)."""
    root = tmp_path / 'sw'
    generate_shapesworld(root, 3, 1, SIZE, SEED, formats=['imagenet', 'ade'])
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob('*') if p.is_file()}
    for kwargs, named in ((dict(num_train=1), 'num_train 3 there, 1 asked'),
                          (dict(class_colors=True), 'class_colors False there, True asked'),
                          (dict(seed=SEED + 1), f'seed {SEED} there, {SEED + 1} asked')):
        args = dict(num_train=3, num_val=1, image_size=SIZE, seed=SEED, formats='imagenet')
        args.update(kwargs)
        with pytest.raises(FileExistsError, match=named) as err:
            generate_shapesworld(root, **args)
        assert str(root) in str(err.value) and 'force=True' in str(err.value)
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob('*') if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ['sw']  # no temporary folder left
    # asked for, it is replaced
    generate_shapesworld(root, 1, 1, SIZE, SEED, formats='imagenet', force=True)
    meta = json.loads((root / 'meta.json').read_text())
    assert meta['num_train'] == 1 and meta['formats'] == ['imagenet']


def test_rle_matches_pycocotools():
    mask_utils = pytest.importorskip('pycocotools.mask')
    rng = np.random.default_rng(0)
    masks = [np.zeros((5, 7), bool), np.ones((6, 3), bool)]
    masks += [rng.random((int(h), int(w))) < p for h, w, p in rng.random((40, 3)) * [60, 60, 1] + 1]
    masks += [obj.mask for obj in render_scene(3, 'train', 0, 128).objects]
    for mask in masks:
        ref = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        mine = rle_encode(mask)
        assert mine['counts'] == ref['counts'].decode() and mine['size'] == list(ref['size'])


def test_scene_consistency():
    for index in range(6):
        scene = render_scene(SEED, 'train', index, 96)
        assert scene.image.shape == (96, 96, 3) and scene.image.dtype == np.uint8
        assert 1 <= len([o for o in scene.objects if o.category != 'person']) <= 4
        depths = [o.depth for o in scene.objects]
        assert depths == sorted(depths, reverse=True)  # painted far to near
        for k, obj in enumerate(scene.objects):
            assert np.array_equal(obj.mask, scene.instance == k)
            assert (scene.image[obj.mask] == obj.rgb).all()
            assert 1.0 <= obj.depth <= 10.0
        assert (scene.instance >= 0).sum() == sum(o.area for o in scene.objects)


# ----------------------------------------------------------------------------- COCO


def test_coco_instances(world):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoDataset
    from pycocotools import mask as mask_utils
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        dataset = CocoDataset(data_root=str(world / 'coco'),
                              ann_file=f'annotations/instances_{split}2017.json',
                              metainfo=dict(classes=THING_CLASSES),
                              data_prefix=dict(img=f'{split}2017/'),
                              pipeline=[],
                              backend_args=None)
        assert len(dataset) == num
        for i in range(len(dataset)):
            info = dataset[i]
            scene = scene_of(info['img_id'])
            image = read_image(info['img_path'])
            assert image.shape == (SIZE, SIZE, 3)
            assert len(info['instances']) == len(scene.objects)
            for inst, obj in zip(info['instances'], scene.objects):
                mask = mask_utils.decode(inst['mask']).astype(bool)
                assert np.array_equal(mask, obj.mask)
                assert (scene.image[mask] == obj.rgb).all()
                assert THING_CLASSES[inst['bbox_label']] == obj.category
                x, y, w, h = mask_utils.toBbox(inst['mask'])
                assert inst['bbox'] == [x, y, x + w, y + h]
                rows, cols = np.nonzero(mask)
                assert (x, y, w, h) == (cols.min(), rows.min(), np.ptp(cols) + 1, np.ptp(rows) + 1)
                assert nearest_color(interior_color(image, mask)) == obj.color


def test_coco_panoptic(world):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoPanopticDataset
    dataset = CocoPanopticDataset(data_root=str(world / 'coco'),
                                  ann_file='annotations/panoptic_val2017.json',
                                  metainfo=PANOPTIC_META,
                                  data_prefix=dict(img='val2017/',
                                                   seg='annotations/panoptic_val2017/'),
                                  pipeline=[],
                                  backend_args=None)
    assert len(dataset) == NUM_VAL
    raw = json.loads((world / 'coco/annotations/panoptic_val2017.json').read_text())
    assert {c['name']: c['isthing'] for c in raw['categories']}['sky'] == 0
    for info in dataset:
        ids = rgb_to_id(read_image(info['seg_map_path']))
        segment_ids = {s['id'] for s in info['segments_info']}
        assert set(np.unique(ids).tolist()) == segment_ids  # every pixel, no void
        scene = scene_of(info['img_id'])
        semseg = read_image(
            osp.join(world, 'coco/annotations/panoptic_semseg_val2017',
                     osp.basename(info['seg_map_path'])))
        assert np.array_equal(semseg, scene.semantic)
        for seg in info['segments_info']:
            labels = np.unique(semseg[ids == seg['id']])
            assert labels.tolist() == [seg['category']]
            assert seg['is_thing'] == (CLASSES[seg['category']] in THING_CLASSES)
        assert len(info['instances']) == len(scene.objects)


def test_coco_keypoints(world):
    pytest.importorskip('mmpose')
    from mmpose.datasets import CocoDataset as PoseCocoDataset
    from pycocotools import mask as mask_utils
    dataset = PoseCocoDataset(data_root=str(world / 'coco'),
                              ann_file='annotations/person_keypoints_train2017.json',
                              data_prefix=dict(img='train2017/'),
                              data_mode='topdown',
                              pipeline=[])
    raw = json.loads((world / 'coco/annotations/person_keypoints_train2017.json').read_text())
    assert raw['categories'][0]['keypoints'] == list(SHAPESWORLD_META['keypoint_names'])
    assert len(dataset) == len(raw['annotations']) > 0
    anns = {a['id']: a for a in raw['annotations']}
    num_visible = 0
    for info in dataset:
        ann = anns[info['id']]
        mask = mask_utils.decode(ann['segmentation']).astype(bool)
        x0, y0, x1, y1 = info['bbox'][0]
        kpts = np.asarray(ann['keypoints'], float).reshape(17, 3)
        assert np.allclose(info['keypoints'][0], kpts[:, :2], atol=1e-4)
        assert set(kpts[:, 2].tolist()) <= {1.0, 2.0} and ann['num_keypoints'] == 17
        for x, y, v in kpts:
            if v == 2:
                num_visible += 1
                assert x0 <= x < x1 and y0 <= y < y1
                assert mask[int(y), int(x)]
    assert num_visible > 0


def test_coco_captions(world):
    from pycocotools.coco import COCO
    coco = COCO(str(world / 'coco/annotations/captions_train2017.json'))
    instances = COCO(str(world / 'coco/annotations/instances_train2017.json'))
    assert sorted(coco.getImgIds()) == list(range(1, NUM_TRAIN + 1))
    for img_id in coco.getImgIds():
        caps = [a['caption'] for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id))]
        assert len(caps) == 5 and len(set(caps)) == 5
        present = {(a['attributes']['color'], instances.cats[a['category_id']]['name'])
                   for a in instances.loadAnns(instances.getAnnIds(imgIds=img_id))}
        for cap in caps:
            assert cap[0].isupper() and cap.endswith('.')
            for color, shape in re.findall(r'(red|green|blue|yellow) (circle|square|triangle|star)',
                                           cap):
                assert (color, shape) in present, cap


# ----------------------------------------------------------------------------- segmentation


def test_ade20k(world):
    pytest.importorskip('mmseg')
    from mmseg.datasets import ADE20KDataset
    from mmseg.datasets.transforms import LoadAnnotations
    root = world / 'ade/ADEChallengeData2016'
    for split_dir, num in (('training', NUM_TRAIN), ('validation', NUM_VAL)):
        dataset = ADE20KDataset(data_root=str(root),
                                data_prefix=dict(img_path=f'images/{split_dir}',
                                                 seg_map_path=f'annotations/{split_dir}'),
                                reduce_zero_label=True,
                                pipeline=[])
        assert len(dataset) == num
    info = dataset[0]
    assert info['reduce_zero_label']
    loaded = LoadAnnotations()(dict(info, seg_fields=[]))
    scene = render_scene(SEED, 'val', 0, SIZE)
    assert np.array_equal(loaded['gt_seg_map'], scene.semantic)
    assert read_image(info['seg_map_path']).min() >= 1  # every pixel is labelled


def test_pascal_voc(world):
    pytest.importorskip('mmseg')
    from mmseg.datasets import PascalVOCDataset
    from PIL import Image
    dataset = PascalVOCDataset(data_root=str(world / 'voc/VOCdevkit/VOC2012'),
                               ann_file='ImageSets/Segmentation/val.txt',
                               data_prefix=dict(img_path='JPEGImages',
                                                seg_map_path='SegmentationClass'),
                               pipeline=[])
    assert len(dataset) == NUM_VAL
    for index, info in enumerate(dataset):
        with Image.open(info['seg_map_path']) as img:
            assert img.mode == 'P'
            labels = np.array(img)
        scene = render_scene(SEED, 'val', index, SIZE)
        assert set(np.unique(labels).tolist()) <= {0, 1, 2, 3, 4, 5, 255}
        band = labels == 255
        assert band.any()
        expected = np.zeros_like(labels)
        for obj in scene.objects:
            expected[obj.mask] = SHAPESWORLD_META['voc_classes'].index(obj.category)
        assert np.array_equal(labels[~band], expected[~band])
        # the band lies outside the outline of the nearest object
        assert not (band & scene.objects[-1].mask).any()


# ----------------------------------------------------------------------------- RefCOCO


class _BuiltinsOnly(pickle.Unpickler):

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f'unexpected global {module}.{name}')


def test_refcoco(world):
    pytest.importorskip('mmdet')
    from mmdet.datasets import RefCocoDataset
    from pycocotools import mask as mask_utils
    refs_file = world / 'refcoco/refcoco/refs(unc).p'
    refs = _BuiltinsOnly(io.BytesIO(refs_file.read_bytes())).load()
    assert {
        'ref_id', 'ann_id', 'image_id', 'split', 'sentences', 'sent_ids', 'category_id', 'file_name'
    } <= set(refs[0])
    assert set(refs[0]['sentences'][0]) == {'raw', 'sent', 'tokens', 'sent_id'}
    instances = json.loads((world / 'refcoco/refcoco/instances.json').read_text())
    anns_by_image = {}
    for ann in instances['annotations']:
        anns_by_image.setdefault(ann['image_id'], []).append(ann)
    checked = 0
    for split in ('train', 'val'):
        dataset = RefCocoDataset(data_root=str(world / 'refcoco'),
                                 ann_file='refcoco/instances.json',
                                 split_file='refcoco/refs(unc).p',
                                 data_prefix=dict(img_path='train2014/'),
                                 split=split,
                                 text_mode='original',
                                 pipeline=[])
        assert len(dataset) > 0
        for info in dataset:
            assert osp.isfile(info['img_path'])
            image_anns = anns_by_image[info['img_id']]
            for inst, text in zip(info['instances'], info['text']):
                mask = mask_utils.decode(inst['mask']).astype(bool)
                ann = next(a for a in image_anns if a['segmentation'] == inst['mask'])
                _check_expression(text, ann, image_anns, mask)
                checked += 1
    assert checked > 0


def _check_expression(text: str, ann: dict, image_anns: list, mask: np.ndarray) -> None:
    """The referred annotation has the expression's colour / class / superlative."""
    from pycocotools import mask as mask_utils
    words = text.split()
    name = next((c for c in THING_CLASSES if c in words), None)
    same_class = [a for a in image_anns if name is None or a['category_id'] == CATEGORY_IDS[name]]
    if name is not None:
        assert ann['category_id'] == CATEGORY_IDS[name], text
    for color in COLOR_WORDS:
        if color in words:
            assert ann['attributes']['color'] == color, text
            same_class = [a for a in same_class if a['attributes']['color'] == color]
    if 'biggest' in words:
        assert ann['area'] == max(a['area'] for a in same_class), text
    if 'smallest' in words:
        assert ann['area'] == min(a['area'] for a in same_class), text
    if 'nearest' in words:
        assert ann['attributes']['depth'] == min(a['attributes']['depth'] for a in same_class)
    if 'left' in words or 'leftmost' in words:
        centre = np.nonzero(mask)[1].mean()
        for other in same_class:
            other_mask = mask_utils.decode(other['segmentation']).astype(bool)
            assert centre <= np.nonzero(other_mask)[1].mean(), text
    if words[:2] == ['the', name] and len(words) == 2:
        assert len(same_class) == 1, text
    assert mask.sum() == ann['area']


# ----------------------------------------------------------------------------- depth / restoration


def test_nyu_depth(world):
    lines = (world / 'nyu/train.txt').read_text().splitlines()
    assert len(lines) == NUM_TRAIN
    for index, line in enumerate(lines):
        rgb_rel, depth_rel, focal = line.split()
        assert float(focal) == SIZE
        assert read_image(world / 'nyu' / rgb_rel).shape == (SIZE, SIZE, 3)
        depth_png = read_image(world / 'nyu' / depth_rel)
        assert depth_png.dtype == np.uint16 and depth_png.shape == (SIZE, SIZE)
        scene = render_scene(SEED, 'train', index, SIZE)
        assert np.abs(depth_png / 1000.0 - scene.depth).max() <= 1e-3
        sky = scene.stuff_mask('sky')
        assert (depth_png[sky] == 20000).all()
        for obj in scene.objects:
            assert np.allclose(scene.depth[obj.mask], obj.depth)
            behind = scene.background_depth[obj.mask]
            assert (behind >= obj.depth - 1e-6).all()
            rows = np.nonzero(obj.mask)[0]
            above_base = obj.mask & (np.arange(SIZE)[:, None] < rows.max())
            assert (scene.background_depth[above_base] > obj.depth).all()


@pytest.mark.parametrize('subset, pair, lo, hi', [
    ('sidd', ('input', 'target'), 18.0, 40.0),
    ('rain', ('input', 'target'), 12.0, 35.0),
    ('lol', ('low', 'high'), 3.0, 16.0),
])
def test_restoration_pairs(world, subset, pair, lo, hi):
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        folder = world / 'restoration' / subset / split
        inputs = sorted((folder / pair[0]).iterdir())
        targets = sorted((folder / pair[1]).iterdir())
        assert [p.name for p in inputs] == [p.name for p in targets] and len(inputs) == num
    for index, (degraded, clean) in enumerate(zip(inputs, targets)):
        clean_img = read_image(clean)
        assert np.array_equal(clean_img, render_scene(SEED, 'val', index, SIZE).image)
        value = psnr(read_image(degraded), clean_img)
        assert lo < value < hi, (subset, value)


# ----------------------------------------------------------------------------- shards / imagenet


def test_webdataset_shards(world):
    from PIL import Image
    captions = json.loads((world / 'coco/annotations/captions_val2017.json').read_text())
    first_caption = {}
    for ann in captions['annotations']:
        first_caption.setdefault(ann['image_id'], ann['caption'])
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        index = json.loads((world / f'shards/{split}.json').read_text())
        assert index['num_samples'] == num
        assert [s['name'] for s in index['shards']
                ] == [f'{split}-{i:06d}.tar' for i in range(len(index['shards']))]
        assert all(s['num_samples'] <= 3 for s in index['shards'])
        total = 0
        for shard in index['shards']:
            with tarfile.open(world / 'shards' / shard['name']) as tar:
                names = tar.getnames()
                keys = [n[:-4] for n in names if n.endswith('.jpg')]
                assert names == [f'{k}.{ext}' for k in keys for ext in ('jpg', 'txt')]
                assert len(keys) == shard['num_samples']
                for key in keys:
                    text = tar.extractfile(f'{key}.txt').read().decode()
                    with Image.open(tar.extractfile(f'{key}.jpg')) as img:
                        assert img.size == (SIZE, SIZE)
                    if split == 'val':
                        assert text == first_caption[int(key)]
                total += len(keys)
        assert total == num


def test_imagenet_folders(world):
    root = world / 'imagenet'
    for split, num in (('train', NUM_TRAIN), ('val', NUM_VAL)):
        assert sorted(p.name for p in (root / split).iterdir()) == sorted(THING_CLASSES)
        lines = (root / 'meta' / f'{split}.txt').read_text().splitlines()
        assert len(lines) == num
        for index, line in enumerate(lines):
            rel, label = line.split()
            assert (root / split / rel).is_file()
            scene = render_scene(SEED, split, index, SIZE)
            largest = max(scene.objects, key=lambda o: o.area)
            assert THING_CLASSES[int(label)] == rel.split('/')[0] == largest.category
    torchvision = pytest.importorskip('torchvision')
    folder = torchvision.datasets.ImageFolder(str(root / 'train'), allow_empty=True)
    assert len(folder) == NUM_TRAIN


def test_cli(tmp_path, capsys):
    import importlib.util
    path = osp.join(osp.dirname(__file__), '..', '..', 'tools/misc/generate_shapesworld.py')
    spec = importlib.util.spec_from_file_location('generate_shapesworld_cli', path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    out = tmp_path / 'cli'
    assert cli.main(['--out-dir', str(out), '--image-size', '200']) == 2
    assert 'image_size' in capsys.readouterr().err
    args = [
        '--out-dir',
        str(out), '--num-train', '2', '--num-val', '1', '--formats', 'imagenet', 'nyu',
        '--image-size', '64'
    ]
    assert cli.main(args) == 0
    assert json.loads((out / 'meta.json').read_text())['formats'] == ['nyu', 'imagenet']
