# Copyright (c) mmgen_vision contributors. All rights reserved.
"""ShapesWorld's people: front-facing stick figures with the 17 COCO keypoints."""
from typing import Optional, Tuple

import numpy as np

from .meta import MAX_OBJECT_DEPTH, PERSON_COLOR, PERSON_COLOR_NAME
from .raster import capsule_mask, disc_mask
from .structures import Camera, SceneObject

#: Height of a person in metres (the camera's units).
PERSON_HEIGHT_M = 1.7


def _person_skeleton(rng: np.random.Generator, cx: float, ankle_y: float,
                     height: float) -> Tuple[np.ndarray, Tuple[float, float, float]]:
    """Joint positions of a front-facing stick figure.

    The person faces the camera, so its left side is on the image right (``+x``).

    Returns:
        tuple: COCO keypoints (x, y) of shape (17, 2) and the head disc ``(cx, cy, radius)``.
    """
    top = ankle_y - height
    head_r = 0.1 * height
    head = (cx, top + head_r, head_r)
    hx, hy = head[0], head[1]
    shoulder_y, hip_y, knee_y = top + 0.25 * height, top + 0.55 * height, top + 0.77 * height
    kpts = np.zeros((17, 2))
    kpts[0] = (hx, hy + 0.25 * head_r)  # nose
    for side, (eye, ear, sho, elb, wri, hip, kne, ank) in ((+1, (1, 3, 5, 7, 9, 11, 13, 15)),
                                                           (-1, (2, 4, 6, 8, 10, 12, 14, 16))):
        kpts[eye] = (hx + side * 0.4 * head_r, hy - 0.2 * head_r)
        kpts[ear] = (hx + side * 0.6 * head_r, hy + 0.05 * head_r)
        kpts[sho] = (cx + side * 0.11 * height, shoulder_y)
        upper = rng.uniform(0.15, 1.9)  # angle from straight down, outwards positive
        lower = upper + rng.uniform(-0.6, 1.0)
        kpts[elb] = kpts[sho] + 0.16 * height * np.array([side * np.sin(upper), np.cos(upper)])
        kpts[wri] = kpts[elb] + 0.15 * height * np.array([side * np.sin(lower), np.cos(lower)])
        kpts[hip] = (cx + side * 0.07 * height, hip_y)
        kpts[kne] = (cx + side * rng.uniform(0.05, 0.11) * height, knee_y)
        kpts[ank] = (cx + side * rng.uniform(0.05, 0.15) * height, ankle_y)
    return kpts, head


def _stick_figure_mask(size: int, kpts: np.ndarray, head: Tuple[float, float, float],
                       thickness: float) -> np.ndarray:
    """Pixels of a stick figure: head disc, neck, torso, shoulder/hip bars and limbs.

    Every keypoint's own pixel is included, so a keypoint always lies on a figure pixel.
    """
    hx, hy, head_r = head
    neck_top = (hx, hy + head_r)
    mid_shoulder = (kpts[5] + kpts[6]) / 2
    mid_hip = (kpts[11] + kpts[12]) / 2
    segments = [(neck_top, mid_shoulder), (mid_shoulder, mid_hip), (kpts[5], kpts[6]),
                (kpts[11], kpts[12]), (kpts[5], kpts[7]), (kpts[7], kpts[9]), (kpts[6], kpts[8]),
                (kpts[8], kpts[10]), (kpts[11], kpts[13]), (kpts[13], kpts[15]),
                (kpts[12], kpts[14]), (kpts[14], kpts[16])]
    mask = disc_mask(size, hx, hy, head_r)
    for p, q in segments:
        mask |= capsule_mask(size, p, q, thickness)
    cols = np.clip(np.floor(kpts[:, 0]).astype(np.int64), 0, size - 1)
    rows = np.clip(np.floor(kpts[:, 1]).astype(np.int64), 0, size - 1)
    mask[rows, cols] = True
    return mask


def sample_person(rng: np.random.Generator, camera: Camera) -> Optional[SceneObject]:
    """A stick-figure person standing on the ground, or ``None`` if the draw does not fit."""
    size = camera.size
    height = rng.uniform(0.42, 0.8) * size
    row_depth = camera.row_depth()
    target_depth = camera.focal * PERSON_HEIGHT_M / height
    lowest = max(camera.first_row_within(MAX_OBJECT_DEPTH) + 1, int(np.ceil(height)) + 1)
    if lowest > size - 1:
        return None
    bottom_row = int(np.clip(camera.first_row_within(target_depth), lowest, size - 1))
    thickness = max(0.8, 0.028 * height)
    ankle_y = bottom_row + 0.9 - thickness
    cx = rng.uniform(0.25, 0.75) * size
    kpts, head = _person_skeleton(rng, cx, ankle_y, height)
    if (kpts.min() < 1.0 or kpts.max() > size - 1.0 or head[1] - head[2] < 0.5
            or np.any(np.abs(kpts[:, 0] - cx) > 0.5 * size)):
        return None
    full_mask = _stick_figure_mask(size, kpts, head, thickness)
    rows = np.flatnonzero(full_mask.any(axis=1))
    depth = float(row_depth[rows[-1]])
    if depth > MAX_OBJECT_DEPTH:
        return None
    keypoints = np.concatenate([kpts, np.ones((17, 1))], axis=1)
    return SceneObject('person',
                       PERSON_COLOR_NAME,
                       PERSON_COLOR,
                       depth,
                       full_mask,
                       keypoints=keypoints)
