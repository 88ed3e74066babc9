# Copyright (c) mmgen_vision contributors. All rights reserved.
import numpy as np
import pytest

from mmgen_vision.utils.panoptic import PQStat, id_to_rgb, rgb_to_id


def test_rgb_id_round_trip_matches_the_coco_encoding():
    ids = np.array([[0, 1, 255], [256, 65536 + 7, 4 * 65536 + 3 * 256 + 2]])
    rgb = id_to_rgb(ids)
    assert rgb.dtype == np.uint8 and rgb[1, 2].tolist() == [2, 3, 4]
    np.testing.assert_array_equal(rgb_to_id(rgb), ids)


def test_pq_stat_hand_computed():
    stat = PQStat()
    # category 1 (thing): two matches with IoU 0.8 and 0.6, one false positive, one false negative
    stat[1].tp, stat[1].iou, stat[1].fp, stat[1].fn = 2, 1.4, 1, 1
    # category 2 (stuff): one perfect match; category 3 never occurs and is not averaged
    other = PQStat()
    other[2].tp, other[2].iou = 1, 1.0
    stat += other
    categories = {1: dict(isthing=1), 2: dict(isthing=0), 3: dict(isthing=0)}
    everything, per_class = stat.pq_average(categories)
    assert per_class[1]['pq'] == pytest.approx(1.4 / 3) and per_class[1]['sq'] == 0.7
    assert per_class[1]['rq'] == pytest.approx(2 / 3)
    assert everything['n'] == 2 and everything['pq'] == pytest.approx((1.4 / 3 + 1.0) / 2)
    things, _ = stat.pq_average(categories, isthing=True)
    stuff, _ = stat.pq_average(categories, isthing=False)
    assert things['n'] == 1 and stuff['n'] == 1 and stuff['pq'] == 1.0
