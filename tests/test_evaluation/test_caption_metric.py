# Copyright (c) mmgen_vision contributors. All rights reserved.
"""BLEU-4 and CIDEr-D (pure Python) against values computed by hand."""
import json
import math

import pytest
from mmengine.evaluator import Evaluator

from mmgen_vision.evaluation import CaptionMetric
from mmgen_vision.evaluation.metrics.caption_metric import corpus_bleu, cider_d, ptb_tokenize
from mmgen_vision.registry import METRICS


def _tok(*texts):
    return [ptb_tokenize(t) for t in texts]


def test_ptb_tokenize():
    assert ptb_tokenize("A man's dog, isn't it?") == ['a', 'man', "'s", 'dog', 'is', "n't", 'it']
    assert ptb_tokenize('A red circle -- left of  the Square.') == [
        'a', 'red', 'circle', 'left', 'of', 'the', 'square']


def test_bleu_single_image():
    # candidate "a red circle left of a blue square" (8 words); references
    # r1 "a red circle left of a green square" (8), r2 "a red circle on the grass" (6)
    # clipped matches / candidate n-grams:
    #   1-grams: a x2 (r1 has 2), red, circle, left, of, square; "blue" misses -> 7 / 8
    #   2-grams: a red, red circle, circle left, left of, of a hit; a blue, blue square -> 5 / 7
    #   3-grams: a red circle, red circle left, circle left of, left of a -> 4 / 6
    #   4-grams: a red circle left, red circle left of, circle left of a -> 3 / 5
    # closest reference length 8 = candidate length -> BP = 1
    # BLEU-4 = (7/8 * 5/7 * 4/6 * 3/5) ** (1/4) = (1/4) ** (1/4) = 0.70711
    gts = {1: _tok('a red circle left of a green square', 'a red circle on the grass')}
    res = {1: ptb_tokenize('a red circle left of a blue square')}
    b1, b2, b3, b4 = corpus_bleu(gts, res)
    assert b1 == pytest.approx(7 / 8)
    assert b2 == pytest.approx(math.sqrt(7 / 8 * 5 / 7))
    assert b3 == pytest.approx((7 / 8 * 5 / 7 * 4 / 6)**(1 / 3))
    assert b4 == pytest.approx(0.25**0.25)


def test_bleu_corpus_level_with_brevity_penalty():
    # image 1 as above (matches 7/8, 5/7, 4/6, 3/5, reference length 8);
    # image 2: candidate "a red circle" (3 words), references "a big red circle" (4) and
    # "a red circle on the grass" (6): 3/3, 2/2, 1/1, 0/0 n-grams, closest reference length 4.
    # Corpus sums: 10/11, 7/9, 5/7, 3/5; c = 11, r = 8 + 4 = 12 -> BP = exp(1 - 12/11)
    # BLEU-4 = exp(-1/11) * (10/11 * 7/9 * 5/7 * 3/5) ** (1/4) = exp(-1/11) * (10/33) ** (1/4)
    gts = {
        1: _tok('a red circle left of a green square', 'a red circle on the grass'),
        2: _tok('a big red circle', 'a red circle on the grass')
    }
    res = {1: ptb_tokenize('a red circle left of a blue square'), 2: ptb_tokenize('a red circle')}
    b1, _, _, b4 = corpus_bleu(gts, res)
    assert b1 == pytest.approx(math.exp(-1 / 11) * 10 / 11)
    assert b4 == pytest.approx(math.exp(-1 / 11) * (10 / 33)**0.25)  # 0.67747


def test_bleu_closest_reference_tie_takes_shorter():
    # candidate of 5 words, references of 4 and 6 words: both 1 away, the shorter (4) is used,
    # c = 5 >= r = 4 -> no brevity penalty; all unigrams match -> BLEU-1 = 1
    gts = {0: _tok('red blue green yellow', 'red blue green yellow black white')}
    res = {0: ptb_tokenize('red blue green yellow black')}
    assert corpus_bleu(gts, res)[0] == pytest.approx(1.0)
    # with only the 6-word reference: BP = exp(1 - 6/5)
    gts = {0: _tok('red blue green yellow black white')}
    assert corpus_bleu(gts, res)[0] == pytest.approx(math.exp(1 - 6 / 5))


def test_cider_d_perfect_and_idf():
    # two images with disjoint vocabularies: every n-gram has df = 1, idf = log 2 = L.
    # A perfect candidate has cosine 1 for n = 1, 2 and no 3-/4-grams (norm 0 -> 0):
    # score = 10 * (1 + 1 + 0 + 0) / 4 = 5 per image
    gts = {'A': _tok('red circle'), 'B': _tok('blue square')}
    res = {'A': ptb_tokenize('red circle'), 'B': ptb_tokenize('blue square')}
    corpus, per_image = cider_d(gts, res)
    assert per_image['A'] == pytest.approx(5.0)
    assert corpus == pytest.approx(5.0)
    # a word in every image's references ("a") has idf log 2 - log 2 = 0 and adds nothing:
    # unigram vectors {a: 0, red: L, circle: L}; bigrams {a red: L, red circle: L} -> still
    # cosine 1 for n = 1..3 ("a red circle" is a 3-gram) -> 10 * 3 / 4 = 7.5
    gts = {'A': _tok('a red circle'), 'B': _tok('a blue square')}
    res = {'A': ptb_tokenize('a red circle'), 'B': ptb_tokenize('a blue square')}
    assert cider_d(gts, res)[1]['A'] == pytest.approx(7.5)


def test_cider_d_clipping_and_length_penalty():
    # A: candidate "red red circle" (3 words) vs reference "red circle" (2 words); B perfect.
    # idf = L = log 2 for every n-gram (df 1, or 0 for "red red", floored to 1).
    # n = 1: cand {red: 2L, circle: L} (norm sqrt(5) L), ref {red: L, circle: L} (sqrt(2) L)
    #        clipped dot = min(2L, L) L + L L = 2 L^2 -> 2 / sqrt(10) = 0.63246
    #        (without the CIDEr-D clipping it would be 3 / sqrt(10))
    # n = 2: cand {red red: L, red circle: L} (sqrt(2) L), ref {red circle: L} (L)
    #        dot = L^2 -> 1 / sqrt(2) = 0.70711
    # n = 3: the reference has no 3-gram -> 0; n = 4: 0
    # length penalty exp(-(3 - 2)^2 / (2 * 6^2)) = exp(-1/72) = 0.98621
    # A = 10 * 0.98621 * (0.63246 + 0.70711) / 4 = 3.30271; corpus = (3.30271 + 5) / 2 = 4.15136
    gts = {'A': _tok('red circle'), 'B': _tok('blue square')}
    res = {'A': ptb_tokenize('red red circle'), 'B': ptb_tokenize('blue square')}
    corpus, per_image = cider_d(gts, res)
    expected_a = 10 * math.exp(-1 / 72) * (2 / math.sqrt(10) + 1 / math.sqrt(2)) / 4
    assert per_image['A'] == pytest.approx(expected_a)
    assert expected_a == pytest.approx(3.30271, abs=1e-5)
    assert corpus == pytest.approx((expected_a + 5.0) / 2)


def test_cider_d_averages_over_references():
    # A has references "red circle" (perfect match: 5 as above) and "green star" (no overlap: 0)
    # -> A = (5 + 0) / 2 = 2.5. B's reference "blue square".
    # "green star" adds n-grams with df 1; the idf of every n-gram is still log 2.
    gts = {'A': _tok('red circle', 'green star'), 'B': _tok('blue square')}
    res = {'A': ptb_tokenize('red circle'), 'B': ptb_tokenize('blue square')}
    assert cider_d(gts, res)[1]['A'] == pytest.approx(2.5)


def test_caption_metric_from_samples_and_ann_file(tmp_path):
    assert METRICS.get('CaptionMetric') is CaptionMetric
    samples = [
        dict(img_id=1, pred_caption='Red circle.', gt_captions=['red circle']),
        dict(img_id=2, pred_caption='blue square', gt_captions=['Blue square!']),
    ]
    evaluator = Evaluator(CaptionMetric())
    evaluator.process(samples)
    metrics = evaluator.evaluate(2)
    # CIDEr-D 5.0 (see test_cider_d_perfect_and_idf) reported x100; BLEU-1 = 1, BLEU-4 ~ 0
    # (no 3-/4-grams: the 1e-15 / 1e-9 floors give (1e-6 * 1e-6) ** (1/4) = 1e-3)
    assert metrics['caption/CIDEr'] == pytest.approx(500.0)
    assert metrics['caption/BLEU-1'] == pytest.approx(100.0)
    assert metrics['caption/BLEU-4'] == pytest.approx(100.0 * 1e-3, rel=1e-3)

    ann_file = tmp_path / 'captions.json'
    ann_file.write_text(
        json.dumps(
            dict(
                images=[dict(id=1), dict(id=2)],
                annotations=[
                    dict(id=1, image_id=1, caption='red circle'),
                    dict(id=2, image_id=2, caption='blue square')
                ])))
    evaluator = Evaluator(CaptionMetric(ann_file=str(ann_file), metrics=['CIDEr']))
    evaluator.process([dict(img_id=1, pred_caption='red red circle'),
                       dict(img_id=2, pred_caption='blue square')])
    metrics = evaluator.evaluate(2)
    assert list(metrics) == ['caption/CIDEr']
    assert metrics['caption/CIDEr'] == pytest.approx(100 * 4.151357, rel=1e-6)


def test_caption_metric_errors(tmp_path):
    with pytest.raises(ValueError, match='metrics'):
        CaptionMetric(metrics=['METEOR'])
    metric = CaptionMetric()
    with pytest.raises(KeyError, match='pred_caption'):
        metric.process({}, [dict(img_id=1)])
    with pytest.raises(KeyError, match='gt_captions'):
        metric.process({}, [dict(img_id=1, pred_caption='a')])
    ann_file = tmp_path / 'captions.json'
    ann_file.write_text(json.dumps(dict(annotations=[dict(image_id=1, caption='a b')])))
    with pytest.raises(KeyError, match='image id 7'):
        CaptionMetric(ann_file=str(ann_file)).process({}, [dict(img_id=7, pred_caption='a')])
    with pytest.raises(ValueError, match='no reference'):
        corpus_bleu({1: []}, {1: ['a']})
