# Copyright (c) mmgen_vision contributors. All rights reserved.
"""One writer per on-disk format. Scenes are streamed through every writer, one at a time.

Each writer gets :class:`SceneRecord` objects (a rendered scene plus its dataset ids) through
:meth:`FormatWriter.add` and writes the per-image files at once; :meth:`FormatWriter.finish`
writes the split-level files (annotation jsons, split lists, shard indexes).
"""
import json
import pickle
import tarfile
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .degrade import low_light, rain_streaks, sensor_noise
from .encoding import (add_tar_member, dump_json, id_to_rgb, png_bytes, voc_colormap,
                       write_bytes)
from .language import tokenize
from .meta import CATEGORY_IDS, DEPTH_SCALE, SPLITS, THING_CLASSES
from .records import (SceneRecord, _coco_file, dominant_class, image_info, instance_annotation,
                      keypoint_annotation, keypoint_categories, panoptic_categories,
                      panoptic_segments, thing_categories, voc_labels)
from .scene import STREAM_LOWLIGHT, STREAM_NOISE, STREAM_RAIN, scene_rng


class FormatWriter:
    """Base class of the format writers.

    Args:
        out_dir (Path): Dataset root (the folder holding ``meta.json``).
    """
    #: Format name, a key of :data:`FORMATS`.
    name = ''
    #: Path of the format's data root relative to ``out_dir``.
    root_rel = ''

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / self.root_rel

    def add(self, record: SceneRecord) -> None:
        """Write the per-image files of one scene."""
        raise NotImplementedError

    def finish(self) -> None:
        """Write the split-level files once every scene was added."""


class CocoWriter(FormatWriter):
    """COCO 2017: images, instances, panoptic (+ semantic PNGs), person keypoints and captions."""
    name = 'coco'
    root_rel = 'coco'

    def __init__(self, out_dir: Path) -> None:
        super().__init__(out_dir)
        keys = ('images', 'instances', 'keypoints', 'panoptic', 'captions')
        self.data = {split: {key: [] for key in keys} for split in SPLITS}
        self.next_caption_id = 1

    def add(self, record: SceneRecord) -> None:
        split, scene = record.split, record.scene
        data = self.data[split]
        stem = f'{record.image_id:012d}'
        ann_dir = self.root / 'annotations'
        write_bytes(self.root / f'{split}2017' / f'{stem}.jpg', record.jpeg)
        data['images'].append(image_info(record, f'{stem}.jpg'))
        for k, obj in enumerate(scene.objects):
            data['instances'].append(instance_annotation(record, k))
            if obj.category == 'person':
                data['keypoints'].append(keypoint_annotation(record, k))
        ids, segments = panoptic_segments(scene)
        write_bytes(ann_dir / f'panoptic_{split}2017' / f'{stem}.png', png_bytes(id_to_rgb(ids)))
        write_bytes(ann_dir / f'panoptic_semseg_{split}2017' / f'{stem}.png',
                    png_bytes(scene.semantic.astype(np.uint8)))
        data['panoptic'].append({
            'image_id': record.image_id,
            'file_name': f'{stem}.png',
            'segments_info': segments
        })
        for caption in record.captions:
            data['captions'].append({
                'id': self.next_caption_id,
                'image_id': record.image_id,
                'caption': caption
            })
            self.next_caption_id += 1

    def finish(self) -> None:
        ann_dir = self.root / 'annotations'
        for split in SPLITS:
            data = self.data[split]
            images = data['images']
            dump_json(
                _coco_file(images=images,
                           annotations=data['instances'],
                           categories=thing_categories()), ann_dir / f'instances_{split}2017.json')
            dump_json(
                _coco_file(images=images,
                           annotations=data['panoptic'],
                           categories=panoptic_categories()),
                ann_dir / f'panoptic_{split}2017.json')
            dump_json(
                _coco_file(images=images,
                           annotations=data['keypoints'],
                           categories=keypoint_categories()),
                ann_dir / f'person_keypoints_{split}2017.json')
            dump_json(_coco_file(images=images, annotations=data['captions']),
                      ann_dir / f'captions_{split}2017.json')


class AdeWriter(FormatWriter):
    """ADE20K (ADEChallengeData2016): labels stored as ``class index + 1``, 0 = unlabelled."""
    name = 'ade'
    root_rel = 'ade/ADEChallengeData2016'
    SPLIT_DIRS = {'train': 'training', 'val': 'validation'}

    def add(self, record: SceneRecord) -> None:
        split_dir = self.SPLIT_DIRS[record.split]
        stem = f'ADE_{record.split}_{record.scene.index + 1:08d}'
        write_bytes(self.root / 'images' / split_dir / f'{stem}.jpg', record.jpeg)
        labels = record.scene.semantic.astype(np.uint8) + 1
        write_bytes(self.root / 'annotations' / split_dir / f'{stem}.png', png_bytes(labels))


class VocWriter(FormatWriter):
    """PASCAL VOC 2012 segmentation: palette PNGs with a 255 border band, ImageSets lists."""
    name = 'voc'
    root_rel = 'voc/VOCdevkit/VOC2012'

    def __init__(self, out_dir: Path) -> None:
        super().__init__(out_dir)
        self.stems: Dict[str, List[str]] = {split: [] for split in SPLITS}
        self.colormap = voc_colormap()

    def add(self, record: SceneRecord) -> None:
        stem = f'2012_{record.image_id:06d}'
        write_bytes(self.root / 'JPEGImages' / f'{stem}.jpg', record.jpeg)
        write_bytes(self.root / 'SegmentationClass' / f'{stem}.png',
                    png_bytes(voc_labels(record.scene), palette=self.colormap))
        self.stems[record.split].append(stem)

    def finish(self) -> None:
        lists = dict(self.stems, trainval=self.stems['train'] + self.stems['val'])
        for name, stems in lists.items():
            write_bytes(self.root / 'ImageSets' / 'Segmentation' / f'{name}.txt',
                        ''.join(f'{s}\n' for s in stems).encode())


class NyuWriter(FormatWriter):
    """NYUv2-style depth: RGB JPEGs, uint16 millimetre PNGs, ``<split>.txt`` pair lists."""
    name = 'nyu'
    root_rel = 'nyu'

    def __init__(self, out_dir: Path) -> None:
        super().__init__(out_dir)
        self.lines: Dict[str, List[str]] = {split: [] for split in SPLITS}

    def add(self, record: SceneRecord) -> None:
        split, scene = record.split, record.scene
        stem = f'{record.image_id:06d}'
        rgb, depth = f'{split}/rgb/{stem}.jpg', f'{split}/depth/{stem}.png'
        write_bytes(self.root / rgb, record.jpeg)
        depth_mm = np.round(scene.depth.astype(np.float64) * DEPTH_SCALE).astype(np.uint16)
        write_bytes(self.root / depth, png_bytes(depth_mm))
        self.lines[split].append(f'{rgb} {depth} {scene.camera.focal:.4f}\n')

    def finish(self) -> None:
        for split, lines in self.lines.items():
            write_bytes(self.root / f'{split}.txt', ''.join(lines).encode())


class RestorationWriter(FormatWriter):
    """Degraded/clean PNG pairs: SIDD-like noise, Rain13K-like streaks, LOL-like low light."""
    name = 'restoration'
    root_rel = 'restoration'
    #: subset -> (input folder, target folder, degradation, random stream)
    SUBSETS = {
        'sidd': ('input', 'target', sensor_noise, STREAM_NOISE),
        'rain': ('input', 'target', rain_streaks, STREAM_RAIN),
        'lol': ('low', 'high', low_light, STREAM_LOWLIGHT),
    }

    def add(self, record: SceneRecord) -> None:
        scene = record.scene
        stem = f'{record.image_id:06d}.png'
        clean = png_bytes(scene.image)
        for subset, (in_dir, gt_dir, degrade, stream) in self.SUBSETS.items():
            folder = self.root / subset / record.split
            rng = scene_rng(scene.seed, scene.split, scene.index, stream)
            write_bytes(folder / in_dir / stem, png_bytes(degrade(scene.image, rng)))
            write_bytes(folder / gt_dir / stem, clean)


class RefCocoWriter(FormatWriter):
    """RefCOCO (UNC splits): ``refcoco/refs(unc).p``, ``refcoco/instances.json``, ``train2014/``.
    """
    name = 'refcoco'
    root_rel = 'refcoco'

    def __init__(self, out_dir: Path) -> None:
        super().__init__(out_dir)
        self.images: List[dict] = []
        self.annotations: List[dict] = []
        self.refs: List[dict] = []
        self.next_sent_id = 0

    def add(self, record: SceneRecord) -> None:
        file_name = f'COCO_train2014_{record.image_id:012d}.jpg'
        write_bytes(self.root / 'train2014' / file_name, record.jpeg)
        self.images.append(image_info(record, file_name))
        for k in range(len(record.scene.objects)):
            self.annotations.append(instance_annotation(record, k))
        for k, expressions in record.referring:
            ref_id = len(self.refs)
            sentences = []
            for text in expressions:
                tokens = tokenize(text)
                sentences.append({
                    'tokens': tokens,
                    'raw': text,
                    'sent_id': self.next_sent_id,
                    'sent': ' '.join(tokens)
                })
                self.next_sent_id += 1
            self.refs.append({
                'sent_ids': [s['sent_id'] for s in sentences],
                'file_name': f'COCO_train2014_{record.image_id:012d}_{ref_id}.jpg',
                'ann_id': record.ann_ids[k],
                'ref_id': ref_id,
                'image_id': record.image_id,
                'split': record.split,
                'sentences': sentences,
                'category_id': CATEGORY_IDS[record.scene.objects[k].category],
            })

    def finish(self) -> None:
        ann_dir = self.root / 'refcoco'
        dump_json(
            _coco_file(images=self.images,
                       annotations=self.annotations,
                       categories=thing_categories()), ann_dir / 'instances.json')
        # a JSON round trip guarantees builtins only and a canonical (deterministic) pickle
        refs = json.loads(json.dumps(self.refs))
        write_bytes(ann_dir / 'refs(unc).p', pickle.dumps(refs, protocol=4))


class ShardWriter(FormatWriter):
    """WebDataset tar shards of ``<key>.jpg`` + ``<key>.txt`` pairs, plus ``<split>.json``.

    Args:
        out_dir (Path): Dataset root.
        samples_per_shard (int): Samples per tar (the last shard of a split may hold fewer).
    """
    name = 'shards'
    root_rel = 'shards'

    def __init__(self, out_dir: Path, samples_per_shard: int = 16) -> None:
        super().__init__(out_dir)
        self.samples_per_shard = samples_per_shard
        self.shards: Dict[str, List[dict]] = {split: [] for split in SPLITS}
        self.tar: Optional[tarfile.TarFile] = None
        self.tar_split = ''

    def _close(self) -> None:
        if self.tar is not None:
            self.tar.close()
            self.tar = None

    def add(self, record: SceneRecord) -> None:
        shards = self.shards[record.split]
        if (self.tar is None or self.tar_split != record.split
                or shards[-1]['num_samples'] >= self.samples_per_shard):
            self._close()
            name = f'{record.split}-{len(shards):06d}.tar'
            self.root.mkdir(parents=True, exist_ok=True)
            self.tar = tarfile.open(self.root / name, 'w', format=tarfile.USTAR_FORMAT)
            self.tar_split = record.split
            shards.append({'name': name, 'num_samples': 0})
        key = f'{record.image_id:09d}'
        add_tar_member(self.tar, f'{key}.jpg', record.jpeg)
        add_tar_member(self.tar, f'{key}.txt', record.captions[0].encode('utf-8'))
        shards[-1]['num_samples'] += 1

    def finish(self) -> None:
        self._close()
        for split, shards in self.shards.items():
            index = {
                'shards': shards,
                'num_samples': sum(s['num_samples'] for s in shards),
                'samples_per_shard': self.samples_per_shard,
            }
            dump_json(index, self.root / f'{split}.json')


class ImageNetWriter(FormatWriter):
    """ImageNet-style class folders (class = largest visible thing) and mmpretrain meta lists."""
    name = 'imagenet'
    root_rel = 'imagenet'

    def __init__(self, out_dir: Path) -> None:
        super().__init__(out_dir)
        self.lines: Dict[str, List[str]] = {split: [] for split in SPLITS}
        for split in SPLITS:
            for name in THING_CLASSES:
                (self.root / split / name).mkdir(parents=True, exist_ok=True)

    def add(self, record: SceneRecord) -> None:
        name = dominant_class(record.scene)
        rel = f'{name}/{name}_{record.image_id:06d}.JPEG'
        write_bytes(self.root / record.split / rel, record.jpeg)
        self.lines[record.split].append(f'{rel} {THING_CLASSES.index(name)}\n')

    def finish(self) -> None:
        for split, lines in self.lines.items():
            write_bytes(self.root / 'meta' / f'{split}.txt', ''.join(lines).encode())


WRITERS = {
    cls.name: cls
    for cls in (CocoWriter, AdeWriter, VocWriter, NyuWriter, RestorationWriter, RefCocoWriter,
                ShardWriter, ImageNetWriter)
}


def format_root(out_dir: Path, fmt: str) -> Path:
    """The data root of format ``fmt`` under ``out_dir`` (what a dataset's ``data_root`` is)."""
    return Path(out_dir) / WRITERS[fmt].root_rel
