# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Constants of ShapesWorld: classes, colours, category ids, keypoints and the format names."""
from typing import Dict, Tuple

#: Bumped whenever the rendering or any on-disk layout changes; stored in ``meta.json``.
SHAPESWORLD_VERSION = '1.0'

SPLITS: Tuple[str, ...] = ('train', 'val')

#: Every on-disk format :func:`generate_shapesworld` can write, in writing order.
FORMATS: Tuple[str, ...] = ('coco', 'ade', 'voc', 'nyu', 'restoration', 'refcoco', 'shards',
                            'imagenet')  # yapf: disable

SHAPE_CLASSES: Tuple[str, ...] = ('circle', 'square', 'triangle', 'star')
THING_CLASSES: Tuple[str, ...] = SHAPE_CLASSES + ('person', )
STUFF_CLASSES: Tuple[str, ...] = ('sky', 'ground')
#: All semantic classes: things first, then stuff. The index in this tuple is the contiguous
#: semantic label used by the semantic maps (``panoptic_semseg`` PNGs, ADE labels minus one).
CLASSES: Tuple[str, ...] = THING_CLASSES + STUFF_CLASSES

#: Colour names of the shapes and their nominal RGB (each object jitters it slightly).
COLOR_NAMES: Tuple[str, ...] = ('red', 'green', 'blue', 'yellow')
COLORS: Dict[str, Tuple[int, int, int]] = {
    'red': (215, 40, 40),
    'green': (40, 170, 60),
    'blue': (40, 70, 215),
    'yellow': (235, 205, 40),
}
#: Opt-in ``class_colors`` variant: every shape of a class has this colour (the colour then names
#: the class; by default colours are drawn independently of the class).
CLASS_COLOR_NAMES: Dict[str, str] = {
    'circle': 'red',
    'square': 'green',
    'triangle': 'blue',
    'star': 'yellow',
}
#: The stick-figure person is drawn in this colour (named ``black``).
PERSON_COLOR_NAME = 'black'
PERSON_COLOR: Tuple[int, int, int] = (30, 30, 35)

#: Visualisation palette, one RGB per entry of :data:`CLASSES`.
PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (220, 20, 60),  # circle
    (0, 130, 200),  # square
    (60, 180, 75),  # triangle
    (255, 225, 25),  # star
    (145, 30, 180),  # person
    (135, 206, 235),  # sky
    (139, 90, 43),  # ground
)

#: COCO-style category ids (1-based, contiguous, shared by every COCO-like json).
CATEGORY_IDS: Dict[str, int] = {name: i + 1 for i, name in enumerate(CLASSES)}
SUPERCATEGORIES: Dict[str, str] = {
    'circle': 'shape',
    'square': 'shape',
    'triangle': 'shape',
    'star': 'shape',
    'person': 'person',
    'sky': 'sky',
    'ground': 'ground',
}

#: The 17 COCO keypoints, in COCO order.
KEYPOINT_NAMES: Tuple[str, ...] = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                                   'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
                                   'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
                                   'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
#: The COCO skeleton (1-based keypoint indices), as in ``person_keypoints_*.json``.
SKELETON: Tuple[Tuple[int, int], ...] = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12),
                                         (7, 13), (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3),
                                         (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))

#: Depth: objects stand 1-10 m away; the sky (and the far ground) is at ``MAX_DEPTH``.
MAX_DEPTH = 20.0
MAX_OBJECT_DEPTH = 10.0
#: Depth PNGs store ``round(depth * DEPTH_SCALE)`` as uint16 (millimetres).
DEPTH_SCALE = 1000.0

MIN_IMAGE_SIZE = 64
MAX_IMAGE_SIZE = 128

#: VOC-style labels: 0 = background (all stuff), 1..5 = things, 255 = boundary/ignore.
VOC_CLASSES: Tuple[str, ...] = ('background', ) + THING_CLASSES
IGNORE_INDEX = 255

SKY_STYLES: Tuple[str, ...] = ('clear', 'cloudy', 'evening')
GROUND_STYLES: Tuple[str, ...] = ('grass', 'dirt', 'sand')


def _build_meta() -> dict:
    """Assemble :data:`SHAPESWORLD_META` from the constants above."""
    return dict(
        version=SHAPESWORLD_VERSION,
        classes=CLASSES,
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        shape_classes=SHAPE_CLASSES,
        palette=PALETTE,
        color_names=COLOR_NAMES,
        colors=dict(COLORS),
        person_color_name=PERSON_COLOR_NAME,
        person_color=PERSON_COLOR,
        category_ids=dict(CATEGORY_IDS),
        thing_category_ids=tuple(CATEGORY_IDS[c] for c in THING_CLASSES),
        stuff_category_ids=tuple(CATEGORY_IDS[c] for c in STUFF_CLASSES),
        supercategories=dict(SUPERCATEGORIES),
        keypoint_names=KEYPOINT_NAMES,
        skeleton=SKELETON,
        voc_classes=VOC_CLASSES,
        ade_classes=CLASSES,
        imagenet_classes=THING_CLASSES,
        ignore_index=IGNORE_INDEX,
        max_depth=MAX_DEPTH,
        depth_scale=DEPTH_SCALE,
        sky_styles=SKY_STYLES,
        ground_styles=GROUND_STYLES,
        splits=SPLITS,
        formats=FORMATS,
    )


#: Everything a consumer needs to interpret the generated files.
SHAPESWORLD_META: dict = _build_meta()
