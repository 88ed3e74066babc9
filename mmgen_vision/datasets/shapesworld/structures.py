# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The ShapesWorld scene structures: the pinhole :class:`Camera`, a :class:`SceneObject` and a
rendered :class:`Scene` (see :mod:`.scene` for the geometry and the renderer)."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .meta import CLASSES, MAX_DEPTH
from .raster import mask_bbox


@dataclass(frozen=True)
class Camera:
    """Pinhole camera above a flat ground plane.

    Args:
        size (int): Image side in pixels.
        horizon (int): First ground row; rows ``< horizon`` are sky.
        focal (float): Focal length in pixels.
        height (float): Camera height above the ground in metres.
    """
    size: int
    horizon: int
    focal: float
    height: float

    def row_depth(self) -> np.ndarray:
        """Depth (metres) of the background in each image row.

        Returns:
            np.ndarray: Float64 array of shape (size, ), :data:`MAX_DEPTH` on sky rows and
            non-increasing from the horizon to the bottom row.
        """
        y = np.arange(self.size, dtype=np.float64) + 0.5
        below = y - self.horizon
        depth = np.full(self.size, MAX_DEPTH)
        ground = below > 0
        depth[ground] = np.minimum(self.focal * self.height / below[ground], MAX_DEPTH)
        return depth

    def first_row_within(self, depth: float) -> int:
        """The highest row whose ground depth is at most ``depth``."""
        rows = np.flatnonzero(self.row_depth() <= depth)
        return int(rows[0]) if rows.size else self.size - 1


@dataclass
class SceneObject:
    """One thing in a scene.

    Attributes:
        category (str): One of ``THING_CLASSES``.
        color (str): Colour name (``'black'`` for the person).
        rgb (tuple[int, int, int]): The flat colour it is painted with.
        depth (float): Distance in metres (the ground depth of its lowest row).
        full_mask (np.ndarray): Bool (H, W), the pixels it covers when nothing occludes it.
        mask (np.ndarray): Bool (H, W), its visible pixels (set when the scene is composed).
        keypoints (np.ndarray, optional): (17, 3) COCO keypoints ``[x, y, v]`` for the person,
            ``v = 2`` visible, ``1`` occluded; ``None`` for shapes.
    """
    category: str
    color: str
    rgb: Tuple[int, int, int]
    depth: float
    full_mask: np.ndarray
    mask: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None

    @property
    def area(self) -> int:
        """Number of visible pixels."""
        return int(self.mask.sum())

    @property
    def bbox(self) -> Tuple[int, int, int, int]:
        """Tight COCO box ``(x, y, w, h)`` of the visible pixels."""
        return mask_bbox(self.mask)

    @property
    def centroid(self) -> Tuple[float, float]:
        """Mean ``(x, y)`` of the visible pixel centres."""
        rows, cols = np.nonzero(self.mask)
        return float(cols.mean() + 0.5), float(rows.mean() + 0.5)


@dataclass
class Scene:
    """A rendered scene.

    Attributes:
        image (np.ndarray): Clean RGB image, uint8 of shape (H, W, 3).
        depth (np.ndarray): Depth in metres, float32 of shape (H, W).
        background_depth (np.ndarray): Depth of the sky/ground behind the objects, float32 (H, W).
        semantic (np.ndarray): Index into ``CLASSES`` per pixel, uint8 of shape (H, W).
        instance (np.ndarray): Index into ``objects`` per pixel, -1 on stuff, int16 of shape (H, W).
        objects (list[SceneObject]): Objects in painting order (far to near).
        camera (Camera): The camera; ``camera.horizon`` is the first ground row.
        sky_style (str): One of ``SKY_STYLES``.
        ground_style (str): One of ``GROUND_STYLES``.
        seed (int), split (str), index (int): Where the scene comes from.
    """
    image: np.ndarray
    depth: np.ndarray
    background_depth: np.ndarray
    semantic: np.ndarray
    instance: np.ndarray
    objects: List[SceneObject]
    camera: Camera
    sky_style: str
    ground_style: str
    seed: int = 0
    split: str = 'train'
    index: int = 0

    @property
    def size(self) -> int:
        """Image side in pixels."""
        return self.image.shape[0]

    def stuff_mask(self, name: str) -> np.ndarray:
        """Bool (H, W) mask of the visible pixels of stuff class ``name``."""
        return self.semantic == CLASSES.index(name)


# ----------------------------------------------------------------------------- background
