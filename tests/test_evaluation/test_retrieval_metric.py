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


def _sample(image, texts, captions=None):
    sample = dict(image_embeds=torch.tensor(image, dtype=torch.float32),
                  text_embeds=torch.tensor(texts, dtype=torch.float32))
    if captions is not None:
        sample['captions'] = captions
    return sample


def test_ranks_positive_matrix():
    # the hand matrix above with text 2 also a correct answer of image 2 (both directions)
    sim = torch.tensor([[0.9, 0.1, 0.5, 0.2],
                        [0.8, 0.3, 0.4, 0.1],
                        [0.7, 0.6, 0.5, 0.2]])
    pos = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], dtype=torch.bool)
    i2t, t2i = retrieval_ranks(sim, pos)
    # image 2: best positive 0.5 (text 2), wrong texts 0.7, 0.6 -> rank 2 (was 3)
    assert i2t.tolist() == [0, 1, 2]
    # text 2: best positive image 0.5 (image 2), wrong image 0 at 0.5 ties -> rank 1 (was 2)
    assert t2i.tolist() == [0, 2, 1, 1]
    # the index form is the diagonal special case
    index_form = retrieval_ranks(sim, torch.tensor([0, 0, 1, 2]))
    diag = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=torch.bool)
    for a, b in zip(index_form, retrieval_ranks(sim, diag)):
        assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match='at least one'):
        retrieval_ranks(sim, torch.zeros(3, 4, dtype=torch.bool))


def test_identical_captions_are_one_answer():
    # images 0 and 1 share the caption "a red ball" (identical strings -> identical
    # embeddings); image 0 ranks the shared caption first: by index it is a miss (the copy
    # of image 1 ties with it), by identity a hit
    e = [[1., 0, 0], [0, 1., 0], [0, 0, 1.]]
    samples = [
        _sample([1., 0.2, 0], [e[0], e[2]], ['a red ball', 'a  blue box ']),
        _sample([0.2, 1., 0], [e[0], e[1]], ['a red ball', 'a green cone']),
        _sample([0, 0, 1.], [[0, 0.5, 1.]], ['the sky']),
    ]
    by_identity = Evaluator(RetrievalMetric(topk=(1, )))
    by_identity.process(samples)
    m = by_identity.evaluate(3)
    # cosines, texts [ball (img 0), box (img 0), ball (img 1), cone (img 1), sky (img 2)]:
    # img0 [.98, 0, .98, .20, .09], img1 [.20, 0, .20, .98, .44], img2 [0, 1, 0, 0, .89]
    # i2t: img0 best positive .98 (both balls) -> hit; img1 cone -> hit; img2 ranks image 0's
    # box first -> miss
    assert m['retrieval/i2t_R@1'] == pytest.approx(200 / 3)
    # t2i: both ball texts have images 0 and 1 as answers, image 0 first -> hits; box (img 0)
    # ranks img 2 first -> miss; cone (img 1) and sky (img 2) -> hits
    assert m['retrieval/t2i_R@1'] == pytest.approx(80.0)
    by_index = Evaluator(RetrievalMetric(topk=(1, ), match_identical_captions=False))
    by_index.process(samples)
    m = by_index.evaluate(3)
    # by index img0's own ball ties with image 1's copy (a wrong text) -> miss; image 1's
    # ball ranks image 0 first -> miss
    assert m['retrieval/i2t_R@1'] == pytest.approx(100 / 3)
    assert m['retrieval/t2i_R@1'] == pytest.approx(60.0)
    # without caption strings the metric falls back to positives by index
    no_strings = Evaluator(RetrievalMetric(topk=(1, )))
    no_strings.process([{k: v for k, v in s.items() if k != 'captions'} for s in samples])
    assert no_strings.evaluate(3) == m


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
    with pytest.raises(ValueError, match='2 caption embeddings'):
        RetrievalMetric().process({}, [_sample([1., 0], [[1., 0], [0, 1.]], ['one'])])
