# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The ShapesWorld scene model and its numpy renderer.

A scene is seen by a pinhole camera (focal length ``image_size`` pixels) standing on a flat ground
plane. Rows above the horizon are ``sky`` at :data:`MAX_DEPTH`; the depth of a ground row grows
toward the horizon as ``focal * camera_height / (y - horizon)``. Every object stands on the ground:
its depth is the ground depth of its lowest row, and objects are painted far-to-near, so occlusion,
the depth map and the instance masks are all consistent with each other.
"""
from typing import List, Optional, Tuple

import numpy as np

from .meta import (CLASS_COLOR_NAMES, CLASSES, COLOR_NAMES, COLORS, GROUND_STYLES,
                   MAX_IMAGE_SIZE, MAX_OBJECT_DEPTH, MIN_IMAGE_SIZE, SHAPE_CLASSES, SKY_STYLES,
                   SPLITS)
from .person import sample_person
from .raster import disc_mask, polygon_mask, regular_polygon, smooth_noise, star_polygon
from .structures import Camera, Scene, SceneObject

#: Independent random streams derived from one (seed, split, index).
STREAM_LAYOUT = 0
STREAM_LANGUAGE = 1
STREAM_NOISE = 2
STREAM_RAIN = 3
STREAM_LOWLIGHT = 4

PERSON_PROB = 0.5
MAX_PLACEMENT_ATTEMPTS = 40
MIN_VISIBLE_FRACTION = 0.45
MIN_VISIBLE_PIXELS = 12

SKY_COLORS = {
    'clear': ((70, 130, 200), (170, 205, 235)),
    'cloudy': ((140, 150, 165), (205, 210, 215)),
    'evening': ((60, 60, 120), (225, 150, 110)),
}
GROUND_COLORS = {'grass': (80, 125, 55), 'dirt': (120, 90, 65), 'sand': (190, 170, 125)}


def scene_rng(seed: int, split: str, index: int, stream: int) -> np.random.Generator:
    """The random generator of one stream of one scene.

    Scenes are independent of each other and of the dataset size: scene ``index`` of ``split`` is
    the same whatever ``num_train`` / ``num_val`` are.
    """
    return np.random.default_rng([int(seed), SPLITS.index(split), int(index), int(stream)])


def _jitter(rgb: Tuple[int, int, int], rng: np.random.Generator, amount: int) -> np.ndarray:
    """Colour ``rgb`` shifted by a uniform integer offset per channel, as float64 of shape (3, )."""
    return np.clip(np.asarray(rgb, np.float64) + rng.integers(-amount, amount + 1, 3), 0, 255)


def paint_background(rng: np.random.Generator, camera: Camera, sky_style: str,
                     ground_style: str) -> np.ndarray:
    """Textured sky (gradient + clouds) above the horizon, furrowed ground below.

    Returns:
        np.ndarray: Uint8 RGB image of shape (size, size, 3).
    """
    size, horizon = camera.size, camera.horizon
    ys = (np.arange(size, dtype=np.float64) + 0.5)[:, None]
    xs = (np.arange(size, dtype=np.float64) + 0.5)[None, :]
    # sky: vertical gradient towards the horizon colour, then soft clouds
    top, bottom = (_jitter(c, rng, 10) for c in SKY_COLORS[sky_style])
    t = np.clip(ys / max(horizon, 1), 0.0, 1.0)[..., None]
    sky = top * (1 - t) + bottom * t + np.zeros((1, size, 1))
    cloud_strength = {'clear': 0.35, 'cloudy': 0.8, 'evening': 0.3}[sky_style]
    clouds = np.clip(smooth_noise(rng, size, 4) - 0.3, 0.0, 1.0) * cloud_strength
    sky = sky * (1 - clouds[..., None]) + np.array([245.0, 245.0, 250.0]) * clouds[..., None]
    # ground: furrows converging to a vanishing point on the horizon, faded near the horizon
    base = _jitter(GROUND_COLORS[ground_style], rng, 8)
    below = np.maximum(ys - horizon, 0.5)
    vanish_x = rng.uniform(0.2, 0.8) * size
    freq, phase = rng.uniform(1.5, 3.0), rng.uniform(0.0, 2 * np.pi)
    furrows = np.sin(2 * np.pi * freq * (xs - vanish_x) / below + phase)
    fade = np.clip(below / (0.5 * (size - horizon)), 0.0, 1.0)
    shade = 14.0 * furrows * fade + 10.0 * smooth_noise(rng, size, 6)
    ground = base[None, None, :] + shade[..., None]
    image = np.where((ys < horizon)[..., None], sky, ground)
    image = image + rng.normal(0.0, 3.0, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- objects


def _shape_vertices(category: str, cx: float, radius: float, bottom: float,
                    rotation: float) -> Optional[np.ndarray]:
    """Polygon of a square/triangle/star whose lowest point is at ``y = bottom``."""
    if category == 'square':
        half = 0.85 * radius
        verts = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    elif category == 'triangle':
        verts = regular_polygon(0.0, 0.0, 1.15 * radius, 3, -np.pi / 2 + rotation)
    elif category == 'star':
        outer = 1.2 * radius
        verts = star_polygon(0.0, 0.0, outer, 0.5 * outer, -np.pi / 2 + rotation)
    else:
        return None
    verts = verts + np.array([cx, bottom - verts[:, 1].max()])
    return verts


def sample_shape(rng: np.random.Generator, camera: Camera,
                 class_colors: bool = False) -> Optional[SceneObject]:
    """A random shape standing on the ground, or ``None`` if the draw does not fit the image.

    With ``class_colors`` the colour is :data:`CLASS_COLOR_NAMES` of the class instead of the
    random draw (which is still made, so that the layout is the one of the default scene).
    """
    size = camera.size
    category = SHAPE_CLASSES[int(rng.integers(len(SHAPE_CLASSES)))]
    color = COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))]
    if class_colors:
        color = CLASS_COLOR_NAMES[category]
    rgb = tuple(int(v) for v in _jitter(COLORS[color], rng, 12))
    row_depth = camera.row_depth()
    # one row of margin: the lowest covered row may be one above the sampled one
    bottom_row = int(rng.integers(camera.first_row_within(MAX_OBJECT_DEPTH) + 1, size))
    size_m = rng.uniform(0.35, 1.1)
    radius = float(
        np.clip(0.5 * camera.focal * size_m / row_depth[bottom_row], max(3.0, 0.05 * size),
                0.18 * size))
    reach = 1.2 * radius
    cx = rng.uniform(reach + 1.0, size - reach - 1.0)
    bottom = bottom_row + 0.9
    rotation = rng.uniform(-0.3, 0.3)
    if category == 'circle':
        if bottom - 2 * radius < 0.5:
            return None
        full_mask = disc_mask(size, cx, bottom - radius, radius)
    else:
        verts = _shape_vertices(category, cx, radius, bottom, rotation)
        if verts[:, 1].min() < 0.5:
            return None
        full_mask = polygon_mask(size, verts)
    rows = np.flatnonzero(full_mask.any(axis=1))
    if rows.size == 0:
        return None
    depth = float(row_depth[rows[-1]])
    if depth > MAX_OBJECT_DEPTH:
        return None
    return SceneObject(category, color, rgb, depth, full_mask)


def paint_order(objects: List[SceneObject]) -> List[SceneObject]:
    """Objects sorted far-to-near (ties keep insertion order)."""
    order = sorted(range(len(objects)), key=lambda k: (-objects[k].depth, k))
    return [objects[k] for k in order]


def instance_map(objects: List[SceneObject], size: int) -> np.ndarray:
    """Per-pixel index of the nearest object covering it (objects must be in paint order).

    Returns:
        np.ndarray: Int16 array of shape (size, size), -1 where no object is.
    """
    instance = np.full((size, size), -1, dtype=np.int16)
    for k, obj in enumerate(objects):
        instance[obj.full_mask] = k
    return instance


def _visible_enough(objects: List[SceneObject], size: int) -> bool:
    """Whether every object keeps enough visible pixels once all are painted far-to-near."""
    ordered = paint_order(objects)
    instance = instance_map(ordered, size)
    for k, obj in enumerate(ordered):
        full = int(obj.full_mask.sum())
        visible = int((instance == k).sum())
        min_fraction = 0.6 if obj.category == 'person' else MIN_VISIBLE_FRACTION
        if visible < max(MIN_VISIBLE_PIXELS, min_fraction * full):
            return False
    return True


def place_objects(rng: np.random.Generator, camera: Camera,
                  class_colors: bool = False) -> List[SceneObject]:
    """Draw 1-4 shapes and, with probability :data:`PERSON_PROB`, a person.

    Each object is redrawn until it fits the image and leaves every object sufficiently visible;
    an object that fails :data:`MAX_PLACEMENT_ATTEMPTS` draws is dropped (the first shape gets 25
    times as many, so every scene has a shape). ``class_colors``: see :func:`sample_shape`.

    Returns:
        list[SceneObject]: Objects in painting order (far to near).
    """
    num_shapes = int(rng.integers(1, 5))
    kinds = ['shape'] * num_shapes
    if rng.random() < PERSON_PROB:
        kinds.insert(int(rng.integers(0, num_shapes + 1)), 'person')
    objects: List[SceneObject] = []
    for i, kind in enumerate(kinds):
        # the first shape gets a large budget so that every scene has at least one shape
        first_shape = kind == 'shape' and 'shape' not in kinds[:i]
        for _ in range(MAX_PLACEMENT_ATTEMPTS * (25 if first_shape else 1)):
            if kind == 'person':
                obj = sample_person(rng, camera)
            else:
                obj = sample_shape(rng, camera, class_colors)
            if obj is not None and _visible_enough(objects + [obj], camera.size):
                objects.append(obj)
                break
    return paint_order(objects)


# ----------------------------------------------------------------------------- composition


def sample_camera(rng: np.random.Generator, size: int) -> Camera:
    """A camera whose horizon lies at 30-55% of the height and whose bottom row is 1.1-1.4 m away.
    """
    horizon = int(rng.integers(round(0.3 * size), round(0.55 * size) + 1))
    focal = float(size)
    height = rng.uniform(1.1, 1.4) * (size - 0.5 - horizon) / focal
    return Camera(size=size, horizon=horizon, focal=focal, height=float(height))


def compose(background: np.ndarray, camera: Camera,
            objects: List[SceneObject]) -> Tuple[np.ndarray, ...]:
    """Paint the objects (in paint order) over the background and fill every per-pixel map.

    Also sets ``obj.mask`` and the visibility flags of the person keypoints.

    Returns:
        tuple: ``image`` uint8 (H, W, 3), ``depth`` float32 (H, W), ``background_depth`` float32
        (H, W), ``semantic`` uint8 (H, W) and ``instance`` int16 (H, W).
    """
    size = camera.size
    background_depth = np.repeat(camera.row_depth()[:, None], size, axis=1).astype(np.float32)
    semantic = np.full((size, size), CLASSES.index('ground'), dtype=np.uint8)
    semantic[:camera.horizon] = CLASSES.index('sky')
    instance = instance_map(objects, size)
    image = background.copy()
    depth = background_depth.copy()
    for k, obj in enumerate(objects):
        obj.mask = instance == k
        image[obj.mask] = obj.rgb
        depth[obj.mask] = obj.depth
        semantic[obj.mask] = CLASSES.index(obj.category)
        if obj.keypoints is not None:
            cols = np.floor(obj.keypoints[:, 0]).astype(np.int64)
            rows = np.floor(obj.keypoints[:, 1]).astype(np.int64)
            obj.keypoints[:, 2] = np.where(obj.mask[rows, cols], 2.0, 1.0)
    return image, depth, background_depth, semantic, instance


def validate_image_size(image_size: int) -> int:
    """Check ``image_size`` and return it as int.

    Raises:
        ValueError: If it is not an integer in ``[MIN_IMAGE_SIZE, MAX_IMAGE_SIZE]``.
    """
    if (isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer))
            or not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE):
        raise ValueError(f'image_size must be an integer in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}], '
                         f'got {image_size!r}')
    return int(image_size)


def render_scene(seed: int, split: str, index: int, image_size: int = 96,
                 class_colors: bool = False) -> Scene:
    """Render scene ``index`` of ``split`` for ``seed`` (deterministic).

    Args:
        seed (int): Non-negative dataset seed.
        split (str): ``'train'`` or ``'val'``.
        index (int): Scene index within the split.
        image_size (int): Side of the square image, 64-128.

    Returns:
        Scene: The rendered scene.
    """
    size = validate_image_size(image_size)
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    rng = scene_rng(seed, split, index, STREAM_LAYOUT)
    camera = sample_camera(rng, size)
    sky_style = SKY_STYLES[int(rng.integers(len(SKY_STYLES)))]
    ground_style = GROUND_STYLES[int(rng.integers(len(GROUND_STYLES)))]
    background = paint_background(rng, camera, sky_style, ground_style)
    objects = place_objects(rng, camera, class_colors)
    image, depth, background_depth, semantic, instance = compose(background, camera, objects)
    return Scene(image=image,
                 depth=depth,
                 background_depth=background_depth,
                 semantic=semantic,
                 instance=instance,
                 objects=objects,
                 camera=camera,
                 sky_style=sky_style,
                 ground_style=ground_style,
                 seed=int(seed),
                 split=split,
                 index=int(index))


__all__ = [
    'Camera', 'SceneObject', 'Scene', 'render_scene', 'scene_rng', 'paint_order', 'compose',
    'validate_image_size'
]
