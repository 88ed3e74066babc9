# Copyright (c) mmgen_vision contributors. All rights reserved.
"""RetrievalMetric (Recall@K both directions) against values computed by hand."""
import pytest
import torch
from mmengine.evaluator import Evaluator

from mmgen_vision.evaluation import RetrievalMetric
from mmgen_vision.evaluation.metrics.retrieval_metric import retrieval_ranks
from mmgen_vision.registry import METRICS


def test_ranks_hand_matrix():
    # 3 images x 4 texts; texts 0, 1 describe image 0, text 2 image 1, text 3 image 2
    sim = torch.tensor([[0.9, 0.1, 0.5, 0.2],
                        [0.8, 0.3, 0.4, 0.1],
                        [0.7, 0.6, 0.5, 0.2]])
    i2t, t2i = retrieval_ranks(sim, torch.tensor([0, 0, 1, 2]))
    # image 0: best caption 0.9, wrong texts (0.5, 0.2) below -> rank 0
    # image 1: caption 0.4, wrong texts 0.8 (>=), 0.3, 0.1 -> rank 1
    # image 2: caption 0.2, wrong texts 0.7, 0.6, 0.5 -> rank 3
    assert i2t.tolist() == [0, 1, 3]
    # text 0 (img 0): column 0.9 / 0.8 / 0.7 -> 0; text 1: 0.1 vs 0.3, 0.6 -> 2
    # text 2 (img 1): 0.4 vs 0.5, 0.5 -> 2; text 3 (img 2): 0.2 vs 0.2 (tie counts), 0.1 -> 1
    assert t2i.tolist() == [0, 2, 2, 1]


def _sample(image, texts):
    return dict(image_embeds=torch.tensor(image, dtype=torch.float32),
                text_embeds=torch.tensor(texts, dtype=torch.float32))


def test_metric_hand_computed():
    assert METRICS.get('RetrievalMetric') is RetrievalMetric
    # unnormalised embeddings: the metric uses cosines
    # images e0 (x2), e1 (x3), e2; texts t0 = e0, t1 = (e1 + e2) (img 0), t2 = e2 (img 1),
    # t3 = 2 e2 (img 2). Cosines (img x txt): img0 [1, 0, 0, 0], img1 [0, .71, 0, 0],
    # img2 [0, .71, 1, 1]
    samples = [
        _sample([2., 0, 0], [[1., 0, 0], [0, 1., 1.]]),
        _sample([0, 3., 0], [[0, 0, 1.]]),
        _sample([0, 0, 1.], [0, 0, 2.]),  # one caption given as (D,)
    ]
    evaluator = Evaluator(RetrievalMetric(topk=(1, 2, 4)))
    evaluator.process(samples)
    metrics = evaluator.evaluate(3)
    # i2t: img0 best 1 vs wrong (0, 0) -> 0; img1 caption 0 vs wrong 0 (tie), .71, 0 -> 3;
    #      img2 caption 1 vs wrong 0, .71, 1 (tie) -> 1. ranks [0, 3, 1]
    assert metrics['retrieval/i2t_R@1'] == pytest.approx(100 / 3)
    assert metrics['retrieval/i2t_R@2'] == pytest.approx(200 / 3)
    assert metrics['retrieval/i2t_R@4'] == pytest.approx(100.0)
    # t2i: t0 [1, 0, 0] -> 0; t1 [0, .71, .71] (img 0) -> 2; t2 [0, 0, 1] (img 1) -> 2;
    #      t3 [0, 0, 1] (img 2) -> 0. ranks [0, 2, 2, 0]
    assert metrics['retrieval/t2i_R@1'] == pytest.approx(50.0)
    assert metrics['retrieval/t2i_R@2'] == pytest.approx(50.0)
    assert metrics['retrieval/t2i_R@4'] == pytest.approx(100.0)
    assert metrics['retrieval/rsum'] == pytest.approx(100 / 3 + 200 / 3 + 100 + 50 + 50 + 100)


def test_constant_similarity_is_not_rewarded():
    # all-zero embeddings: every score ties, ties count against the query -> R@1 = 0
    samples = [_sample([0., 0], [[0., 0]]) for _ in range(4)]
    evaluator = Evaluator(RetrievalMetric(topk=(1, 4)))
    evaluator.process(samples)
    metrics = evaluator.evaluate(4)
    assert metrics['retrieval/i2t_R@1'] == 0.0
    assert metrics['retrieval/t2i_R@1'] == 0.0
    assert metrics['retrieval/i2t_R@4'] == 100.0


def test_errors():
    with pytest.raises(ValueError, match='topk'):
        RetrievalMetric(topk=(0, ))
    with pytest.raises(KeyError, match='text_embeds'):
        RetrievalMetric().process({}, [dict(image_embeds=torch.zeros(2))])
    with pytest.raises(ValueError, match='expected'):
        RetrievalMetric().process({}, [_sample([1., 0], [[1., 0, 0]])])
