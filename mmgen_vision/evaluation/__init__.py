# Copyright (c) mmgen_vision contributors. All rights reserved.
from .baselines import (ade_pixel_counts, chance_miou, coco_panoptic_pixel_counts,
                        constant_miou, label_pixel_counts, majority_miou, segmentation_baselines,
                        voc_pixel_counts, whole_image_ciou, whole_image_miou)
from .metrics import *  # noqa: F401,F403
from .metrics import __all__ as _metrics_all

__all__ = [
    'label_pixel_counts', 'chance_miou', 'constant_miou', 'majority_miou',
    'segmentation_baselines', 'ade_pixel_counts', 'voc_pixel_counts',
    'coco_panoptic_pixel_counts', 'whole_image_ciou', 'whole_image_miou'
] + list(_metrics_all)
