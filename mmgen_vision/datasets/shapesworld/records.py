# Copyright (c) mmgen_vision contributors. All rights reserved.
"""What the format writers write for one scene: :class:`SceneRecord` (a rendered scene and
its dataset ids) and the COCO / panoptic / VOC annotation builders shared by the writers."""
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, List, Optional, Tuple

import numpy as np

from .encoding import jpeg_bytes, rle_encode
from .language import make_captions, referring_expressions
from .meta import (CATEGORY_IDS, CLASSES, IGNORE_INDEX, KEYPOINT_NAMES, PALETTE,
                   SHAPESWORLD_VERSION, SKELETON, STUFF_CLASSES, SUPERCATEGORIES, THING_CLASSES,
                   VOC_CLASSES)
from .raster import mask_bbox
from .scene import STREAM_LANGUAGE, Scene, scene_rng

#: Random stream of the referring expressions (kept apart from the captions' stream so that
#: each is the same whichever formats are written).
STREAM_REFS = 5
MAX_SENTENCES_PER_REF = 3

COCO_INFO = {
    'description': 'ShapesWorld: deterministic synthetic scenes (mmgen_vision)',
    'version': SHAPESWORLD_VERSION,
    'contributor': 'mmgen_vision',
}
COCO_LICENSES = [{'id': 1, 'name': 'CC0-1.0', 'url': ''}]


@dataclass
class SceneRecord:
    """A rendered scene with the ids it gets in the dataset.

    Attributes:
        scene (Scene): The rendered scene.
        image_id (int): COCO image id (train: ``index + 1``, val: ``num_train + index + 1``).
        ann_ids (list[int]): COCO annotation id of each of ``scene.objects`` (unique overall).
    """
    scene: Scene
    image_id: int
    ann_ids: List[int]

    @property
    def split(self) -> str:
        return self.scene.split

    @property
    def size(self) -> int:
        return self.scene.size

    @cached_property
    def jpeg(self) -> bytes:
        """The clean image as JPEG; every format that stores JPEGs stores these bytes."""
        return jpeg_bytes(self.scene.image)

    @cached_property
    def rles(self) -> List[dict]:
        """COCO compressed RLE of each object's visible mask."""
        return [rle_encode(obj.mask) for obj in self.scene.objects]

    @cached_property
    def captions(self) -> List[str]:
        """Five captions, capitalised and ending with a full stop like COCO's."""
        scene = self.scene
        rng = scene_rng(scene.seed, scene.split, scene.index, STREAM_LANGUAGE)
        return [c[0].upper() + c[1:] + '.' for c in make_captions(scene, rng)]

    @cached_property
    def referring(self) -> List[Tuple[int, List[str]]]:
        """``(object index, expressions)`` for every object with a unique description."""
        scene = self.scene
        rng = scene_rng(scene.seed, scene.split, scene.index, STREAM_REFS)
        out = []
        for k, obj in enumerate(scene.objects):
            expressions = referring_expressions(obj, scene)
            if expressions:
                order = rng.permutation(len(expressions))[:MAX_SENTENCES_PER_REF]
                out.append((k, [expressions[i] for i in sorted(order)]))
        return out


# ----------------------------------------------------------------------------- annotations


def image_info(record: SceneRecord, file_name: str) -> dict:
    """COCO ``images`` entry."""
    return {
        'id': record.image_id,
        'file_name': file_name,
        'height': record.size,
        'width': record.size,
        'license': 1,
    }


def instance_annotation(record: SceneRecord, k: int) -> dict:
    """COCO ``annotations`` entry of object ``k`` (RLE of its visible pixels, tight box)."""
    obj = record.scene.objects[k]
    return {
        'id': record.ann_ids[k],
        'image_id': record.image_id,
        'category_id': CATEGORY_IDS[obj.category],
        'segmentation': record.rles[k],
        'area': obj.area,
        'bbox': list(obj.bbox),
        'iscrowd': 0,
        'attributes': {
            'color': obj.color,
            'depth': round(obj.depth, 4)
        },
    }


def keypoint_annotation(record: SceneRecord, k: int) -> dict:
    """``person_keypoints`` entry: the instance entry plus 17 ``[x, y, v]`` triplets."""
    obj = record.scene.objects[k]
    ann = instance_annotation(record, k)
    flat = []
    for x, y, v in obj.keypoints:
        flat += [round(float(x), 2), round(float(y), 2), int(v)]
    ann['num_keypoints'] = int((obj.keypoints[:, 2] > 0).sum())
    ann['keypoints'] = flat
    return ann


def thing_categories() -> List[dict]:
    """COCO ``categories`` of the things (instances / RefCOCO files)."""
    return [{
        'id': CATEGORY_IDS[name],
        'name': name,
        'supercategory': SUPERCATEGORIES[name]
    } for name in THING_CLASSES]


def panoptic_categories() -> List[dict]:
    """COCO panoptic ``categories``: things and stuff, with ``isthing`` and a colour."""
    return [{
        'id': CATEGORY_IDS[name],
        'name': name,
        'supercategory': SUPERCATEGORIES[name],
        'isthing': int(name in THING_CLASSES),
        'color': list(PALETTE[i]),
    } for i, name in enumerate(CLASSES)]


def keypoint_categories() -> List[dict]:
    """The single ``person`` category with COCO keypoint names and skeleton."""
    return [{
        'id': CATEGORY_IDS['person'],
        'name': 'person',
        'supercategory': 'person',
        'keypoints': list(KEYPOINT_NAMES),
        'skeleton': [list(pair) for pair in SKELETON],
    }]


def panoptic_segments(scene: Scene) -> Tuple[np.ndarray, List[dict]]:
    """Panoptic id map and ``segments_info`` of a scene.

    Segment ids are ``category_id * 1000 + n`` where ``n`` counts the instances of a thing class
    from 1 (in painting order) and is 0 for stuff, so they are unique within an image. Every pixel
    belongs to exactly one segment.

    Returns:
        tuple: ids of shape (H, W) int64 and the list of segment dicts.
    """
    ids = np.zeros(scene.semantic.shape, dtype=np.int64)
    segments = []
    counts: Dict[str, int] = {}

    def add(mask: np.ndarray, category: str, seg_id: int) -> None:
        ids[mask] = seg_id
        segments.append({
            'id': seg_id,
            'category_id': CATEGORY_IDS[category],
            'iscrowd': 0,
            'bbox': list(mask_bbox(mask)),
            'area': int(mask.sum()),
        })

    for obj in scene.objects:
        counts[obj.category] = counts.get(obj.category, 0) + 1
        add(obj.mask, obj.category, CATEGORY_IDS[obj.category] * 1000 + counts[obj.category])
    for name in STUFF_CLASSES:
        mask = scene.stuff_mask(name)
        if mask.any():
            add(mask, name, CATEGORY_IDS[name] * 1000)
    return ids, segments


def boundary_band(instance: np.ndarray) -> np.ndarray:
    """1-pixel band just outside every visible object outline (VOC's void border).

    A pixel is in the band iff one of its 4-neighbours belongs to a nearer segment (``instance``
    is the paint-order index, -1 for stuff, so larger means nearer). Object interiors are never in
    the band and there is no band between the two stuff regions.

    Returns:
        np.ndarray: Bool mask of the same shape as ``instance``.
    """
    padded = np.pad(instance.astype(np.int32), 1, mode='edge')
    neighbours = np.maximum.reduce(
        [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]])
    return neighbours > instance


def voc_labels(scene: Scene) -> np.ndarray:
    """VOC label map: 0 background (stuff), 1..5 things, 255 on the boundary band.

    Returns:
        np.ndarray: uint8 array of shape (H, W).
    """
    labels = np.zeros(scene.semantic.shape, dtype=np.uint8)
    for obj in scene.objects:
        labels[obj.mask] = VOC_CLASSES.index(obj.category)
    labels[boundary_band(scene.instance)] = IGNORE_INDEX
    return labels


def dominant_class(scene: Scene) -> str:
    """The thing class with the largest visible area (ties: the nearer object)."""
    best = max(range(len(scene.objects)), key=lambda k: (scene.objects[k].area, k))
    return scene.objects[best].category


def _coco_file(info_extra: Optional[dict] = None, **parts) -> dict:
    """A COCO-style json dict with ``info`` and ``licenses`` first."""
    out = {'info': dict(COCO_INFO, **(info_extra or {})), 'licenses': COCO_LICENSES}
    out.update(parts)
    return out
