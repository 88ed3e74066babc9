# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Side-by-side pictures of Painter's in-context predictions."""
from typing import Optional, Sequence

import cv2
import numpy as np


def painter_side_by_side(prompt_img: np.ndarray, prompt_target: np.ndarray, query: np.ndarray,
                         prediction: np.ndarray, height: int = 256, gap: int = 4,
                         titles: Optional[Sequence[str]] = ('prompt', 'prompt target', 'query',
                                                            'prediction')) -> np.ndarray:
    """One row ``prompt | prompt target | query | prediction`` (all ``uint8 (H, W, 3)`` RGB).

    Every panel is resized to ``height`` rows (aspect kept), separated by ``gap`` white columns,
    and titled in its top-left corner.

    Returns:
        np.ndarray: ``uint8 (height, W_total, 3)`` RGB.
    """
    panels = []
    for i, img in enumerate((prompt_img, prompt_target, query, prediction)):
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.dtype != np.uint8:
            img = np.clip(img, 0, 255).astype(np.uint8)
        w = max(1, int(round(img.shape[1] * height / img.shape[0])))
        img = np.ascontiguousarray(cv2.resize(img, (w, height), interpolation=cv2.INTER_NEAREST))
        if titles:
            cv2.putText(img, titles[i], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3)
            cv2.putText(img, titles[i], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
        panels.append(img)
        if i < 3:
            panels.append(np.full((height, gap, 3), 255, np.uint8))
    return np.concatenate(panels, axis=1)
