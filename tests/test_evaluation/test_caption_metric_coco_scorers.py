# Copyright (c) mmgen_vision contributors. All rights reserved.
"""CaptionMetric on pycocoevalcap's pure-Python Bleu / Cider scorers: the scores of a fixed
corpus are those of the hand-written BLEU / CIDEr-D it replaced.

The expected values below were computed with the previous, hand-written implementation
(``corpus_bleu`` / ``cider_d`` before the switch) on exactly this corpus and tokenizer. The only
differences the scorers could introduce are explained where they are checked:

* BLEU: the scorer adds the 1e-15 / 1e-9 floors to the candidate and reference lengths in the
  brevity penalty as well, a relative change below 1e-9 (here the last printed digit of BLEU-4:
  46.40123249436856 before, 46.40123249436855 now).
* CIDEr-D: the scorer measures lengths in bigrams (``L - 1``); the length difference is the
  same, except for 0- / 1-word sentences, which have no bigram and score 0 anyway (``img6`` has
  a 1-word candidate and a 1-word reference, ``img8`` an empty candidate).
"""
from collections import OrderedDict

import pytest
from mmengine.evaluator import Evaluator

from mmgen_vision.evaluation import CaptionMetric
from mmgen_vision.evaluation.metrics import caption_metric
from mmgen_vision.evaluation.metrics.caption_metric import corpus_bleu, cider_d, ptb_tokenize

# (image id, generated caption, reference captions): clitics, punctuation, upper case, repeated
# words, a 1-word candidate and an empty one ("..." has no word token)
CORPUS = [
    ('img1', 'A red circle left of a blue square.',
     ['A red circle to the left of a green square.', 'A red circle on the grass',
      'Red circle, blue square.']),
    ('img2', "The dog's ball isn't red",
     ["The dog's ball is blue.", "A dog's red ball", "The ball isn't red, it's blue!"]),
    ('img3', 'two triangles and a star',
     ['Two yellow triangles and a small star.', 'Two triangles next to a star',
      'a star between two triangles', 'Triangles, two of them, and one star.']),
    ('img4', 'a a a a', ['A big square.', 'A square in the middle']),
    ('img5', 'A small green star above a large purple circle in a grey scene',
     ['A small green star above a big purple circle.', 'A green star over a purple circle',
      'The star is above the circle']),
    ('img6', 'circle', ['A circle.', 'One circle alone', 'circle']),
    ('img7', 'an orange square right of the blue triangle',
     ['An orange square to the right of a blue triangle.',
      'A blue triangle and an orange square']),
    ('img8', '...', ['Nothing to see here.', 'An empty grey scene']),
]

# computed with the hand-written implementation (percent, as CaptionMetric reports them)
OLD_BLEU = [82.60869565037808, 72.76969979477578, 59.30757858633161, 46.40123249436856]
OLD_CIDER = 222.9364662477324
OLD_CIDER_PER_IMAGE = {
    'img1': 2.6944050775119, 'img2': 4.620560270137623, 'img3': 2.9023086430652305,
    'img4': 0.037272085504562735, 'img5': 1.9198955564383215, 'img6': 1.935652310964488,
    'img7': 3.724823356196466, 'img8': 0.0
}


def _tokenized():
    gts, res = OrderedDict(), OrderedDict()
    for key, pred, refs in CORPUS:
        res[key] = ptb_tokenize(pred)
        gts[key] = [ptb_tokenize(r) for r in refs]
    return gts, res


def test_scorers_are_pycocoevalcap():
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    assert caption_metric.Bleu is Bleu
    assert caption_metric.Cider is Cider


def test_same_scores_as_the_hand_written_implementation():
    gts, res = _tokenized()
    bleu = [100 * b for b in corpus_bleu(gts, res)]
    assert bleu == pytest.approx(OLD_BLEU, rel=1e-12, abs=0)
    corpus, per_image = cider_d(gts, res)
    assert 100 * corpus == pytest.approx(OLD_CIDER, rel=1e-12)
    assert list(per_image) == [key for key, _, _ in CORPUS]  # the order of the candidates
    assert per_image == pytest.approx(OLD_CIDER_PER_IMAGE, rel=1e-12, abs=1e-15)
    assert all(type(v) is float for v in per_image.values())  # not numpy scalars


def test_caption_metric_reports_the_same_numbers():
    evaluator = Evaluator(CaptionMetric())
    evaluator.process([dict(img_id=key, pred_caption=pred, gt_captions=refs)
                       for key, pred, refs in CORPUS])
    metrics = evaluator.evaluate(len(CORPUS))
    for n in range(4):
        assert metrics[f'caption/BLEU-{n + 1}'] == pytest.approx(OLD_BLEU[n], rel=1e-12)
    assert metrics['caption/CIDEr'] == pytest.approx(OLD_CIDER, rel=1e-12)


def test_scorer_receives_the_project_tokenization(monkeypatch):
    """The scorers split on white space: they must get the PTB-style tokens, space-joined
    (punctuation dropped, clitics split), never the raw captions."""
    seen = {}

    class SpyCider(caption_metric.Cider):

        def compute_score(self, gts, res):
            seen.update(gts=dict(gts), res=dict(res))
            return super().compute_score(gts, res)

    monkeypatch.setattr(caption_metric, 'Cider', SpyCider)
    gts = {1: [ptb_tokenize("The dog's ball, isn't it?")], 2: [ptb_tokenize('Blue square!')]}
    res = {1: ptb_tokenize("the dog's ball"), 2: ptb_tokenize('blue square')}
    cider_d(gts, res)
    assert seen['gts'] == {1: ["the dog 's ball is n't it"], 2: ['blue square']}
    assert seen['res'] == {1: ["the dog 's ball"], 2: ['blue square']}


def test_degenerate_corpora_score_zero():
    # nothing generated: BLEU 0 (the brevity penalty underflows), CIDEr-D 0
    gts = {1: [['a', 'red', 'circle']], 2: [['a', 'blue', 'square']]}
    res = {1: [], 2: []}
    assert corpus_bleu(gts, res) == [0.0] * 4
    assert cider_d(gts, res) == (0.0, {1: 0.0, 2: 0.0})
    # references without a single word (the scorer's own document-frequency check would fail)
    gts = {1: [[]], 2: [[]]}
    res = {1: ['a'], 2: ['b']}
    assert cider_d(gts, res) == (0.0, {1: 0.0, 2: 0.0})
    with pytest.raises(ValueError, match='same ids'):
        cider_d({1: [['a']]}, {2: ['a']})
