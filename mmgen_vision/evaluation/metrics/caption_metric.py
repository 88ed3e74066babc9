# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-captioning metrics: BLEU-1..4 and CIDEr-D scored by the COCO caption evaluation's own
pure-Python scorers (``pycocoevalcap.bleu.bleu.Bleu`` and ``pycocoevalcap.cider.cider.Cider``,
the code behind the published COCO caption numbers and mmpretrain's ``COCOCaption`` metric),
without its Java pieces.

The COCO evaluation tokenizes with the Stanford PTB tokenizer, a Java program. Here the captions
are tokenized by :func:`ptb_tokenize` instead (lower-case, split off the PTB clitics ``n't``,
``'s``, ... and drop punctuation, which is what the Java pipeline amounts to for captions), then
joined with spaces and handed to the scorers, which split on white space:

- :func:`corpus_bleu`: corpus-level BLEU-1..4 (clipped n-gram precisions summed over the whole
  corpus, geometric mean, brevity penalty with the reference length closest to each candidate,
  ties to the shorter reference);
- :func:`cider_d`: CIDEr-D (tf-idf n-gram vectors with the document frequencies of the
  evaluated references, n = 1..4, clipped candidate weights, Gaussian length penalty with
  sigma 6, scaled by 10). ``pycocoevalcap``'s ``Cider`` class is CIDEr-D.

Neither scorer needs Java: only the tokenizer, METEOR and SPICE of ``pycocoevalcap`` do, and
they are not used.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgen_vision.registry import METRICS

try:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
except ImportError:  # pragma: no cover - exercised only in an environment without it
    Bleu = Cider = None

_CLITICS = re.compile(r"(n't|'s|'re|'ve|'m|'ll|'d)\b")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|n't|'[a-z]+")


def ptb_tokenize(text: str) -> List[str]:
    """Tokenize a caption the PTB way and drop punctuation.

    ``"A man's dog, isn't it?"`` -> ``['a', 'man', "'s", 'dog', 'is', "n't", 'it']``.

    Args:
        text (str): A caption.

    Returns:
        list[str]: Lower-case word tokens (no punctuation tokens).
    """
    text = text.lower().replace('`', "'")
    text = _CLITICS.sub(r' \1', text)
    return _WORD.findall(text)


def _require_pycocoevalcap() -> None:
    if Bleu is None or Cider is None:
        raise ImportError('CaptionMetric scores with pycocoevalcap\'s Bleu and Cider; install it '
                          'with `pip install pycocoevalcap` (pinned in requirements/runtime.txt)')


def _check_corpus(gts: Dict, res: Dict) -> None:
    if set(gts) != set(res):
        missing = sorted(set(res) - set(gts), key=str)[:5]
        extra = sorted(set(gts) - set(res), key=str)[:5]
        raise ValueError('references and candidates must have the same ids: ids without '
                         f'references {missing}, ids without a candidate {extra}')
    for key, refs in gts.items():
        if len(refs) == 0:
            raise ValueError(f'image {key!r} has no reference caption')


def _to_scorer_input(gts: Dict[object, List[List[str]]],
                     res: Dict[object, List[str]]) -> Tuple[Dict, Dict]:
    """Token lists -> the scorers' input: ``{id: [sentence, ...]}`` with space-joined tokens
    (one sentence per candidate), in the order of ``res``."""
    _check_corpus(gts, res)
    scorer_gts = OrderedDict((key, [' '.join(ref) for ref in gts[key]]) for key in res)
    scorer_res = OrderedDict((key, [' '.join(cand)]) for key, cand in res.items())
    return scorer_gts, scorer_res


def corpus_bleu(gts: Dict[object, List[List[str]]],
                res: Dict[object, List[str]],
                max_n: int = 4) -> List[float]:
    """Corpus-level BLEU-1..``max_n`` (fractions in [0, 1]) by ``pycocoevalcap``'s ``Bleu``.

    For each n, the clipped matches ``sum_i sum_g min(c_i(g), max_r c_ir(g))`` and the candidate
    n-gram count ``sum_i (len_i - n + 1)`` are summed over the corpus, ``p_n = (matches + 1e-15)
    / (count + 1e-9)`` (the floors keep the log finite). ``BLEU-N = BP * exp(mean_{n<=N} log
    p_n)`` with ``BP = exp(1 - r / c)`` if ``c < r`` else 1, ``c`` the total candidate length and
    ``r`` the sum over images of the reference length closest to the candidate's (ties: the
    shorter one); the scorer adds the same floors to ``c`` and ``r``, a relative change below
    1e-9 (an empty candidate corpus scores 0: its brevity penalty underflows to 0).

    Args:
        gts (dict): Image id -> list of tokenized reference captions.
        res (dict): Image id -> tokenized candidate caption.
        max_n (int): Highest n-gram order. Defaults to 4.

    Returns:
        list[float]: ``[BLEU-1, ..., BLEU-max_n]``.
    """
    _require_pycocoevalcap()
    scorer_gts, scorer_res = _to_scorer_input(gts, res)
    # ``verbose=0``: the scorer otherwise prints its n-gram statistics to stdout
    scores, _ = Bleu(max_n).compute_score(scorer_gts, scorer_res, verbose=0)
    return [float(s) for s in scores]


def cider_d(gts: Dict[object, List[List[str]]],
            res: Dict[object, List[str]],
            max_n: int = 4,
            sigma: float = 6.0) -> Tuple[float, Dict[object, float]]:
    """CIDEr-D of a corpus and of each image, by ``pycocoevalcap``'s ``Cider``.

    The document frequency ``df(g)`` of an n-gram is the number of images whose references
    contain it, over the evaluated references; ``idf(g) = log(N_images) - log(max(1, df(g)))``.
    A sentence's n-vector is ``tf(g) * idf(g)`` for its n-grams (``tf`` = raw count). For a
    candidate ``c`` and a reference ``r`` of ``L_c``, ``L_r`` words::

        sim_n = exp(-(L_c - L_r)^2 / (2 sigma^2)) * sum_g min(c_n(g), r_n(g)) r_n(g)
                / (|c_n| |r_n|)                  (0 when a norm is 0)

    and the image's score is ``10 * mean_r mean_n sim_n``. The corpus score is the mean over
    images. (The scorer measures lengths in bigrams, ``L - 1``, which changes nothing: the
    difference is the same, and a 0- or 1-word sentence, the only case where ``L - 1`` is
    clipped at 0, has no bigram, so every ``sim_n`` with it is 0 whatever the penalty.)

    Args:
        gts (dict): Image id -> list of tokenized reference captions.
        res (dict): Image id -> tokenized candidate caption.
        max_n (int): Highest n-gram order. Defaults to 4.
        sigma (float): Length-penalty standard deviation. Defaults to 6.

    Returns:
        tuple[float, dict]: The corpus CIDEr-D and the score of each image id.
    """
    _require_pycocoevalcap()
    scorer_gts, scorer_res = _to_scorer_input(gts, res)
    if not any(ref for refs in gts.values() for ref in refs):
        # no reference n-gram at all (the scorer's document-frequency check fails on it):
        # every tf-idf vector is empty and every similarity 0
        return 0.0, OrderedDict((key, 0.0) for key in res)
    corpus, per_image = Cider(n=max_n, sigma=sigma).compute_score(scorer_gts, scorer_res)
    per_image = OrderedDict((key, float(s)) for key, s in zip(scorer_res, per_image))
    return float(corpus), per_image


@METRICS.register_module()
class CaptionMetric(BaseMetric):
    """BLEU-1..4 and CIDEr-D of generated captions (percent, as the COCO caption table reads:
    BLEU x100, CIDEr-D x100 of its x10-scaled value, e.g. ``CIDEr 116.8``).

    Every data sample must hold the generated caption under ``pred_key`` (a string) and either
    its reference captions under ``gt_key`` (a list of strings) or an ``img_id`` found in the
    COCO captions file ``ann_file`` (``annotations: [{image_id, caption}]``, the
    ``captions_*2017.json`` layout, which ShapesWorld writes too).

    Args:
        ann_file (str, optional): COCO captions json giving the references by ``img_id``.
            Defaults to None (references from the data samples).
        pred_key (str): Data-sample key of the generated caption. Defaults to
            ``'pred_caption'``.
        gt_key (str): Data-sample key of the references. Defaults to ``'gt_captions'``.
        metrics (Sequence[str]): Any of ``'BLEU'`` (BLEU-1..4) and ``'CIDEr'``.
            Defaults to both.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'caption'``.
    """
    default_prefix: Optional[str] = 'caption'
    ALLOWED = ('BLEU', 'CIDEr')

    def __init__(self,
                 ann_file: Optional[str] = None,
                 pred_key: str = 'pred_caption',
                 gt_key: str = 'gt_captions',
                 metrics: Sequence[str] = ('BLEU', 'CIDEr'),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        bad = [m for m in metrics if m not in self.ALLOWED]
        if bad or not metrics:
            raise ValueError(f'CaptionMetric: metrics must be a non-empty subset of '
                             f'{self.ALLOWED}, got {metrics}')
        self.metrics = metrics
        self.pred_key = pred_key
        self.gt_key = gt_key
        self.ann_file = ann_file
        self._refs_by_img = self._load_references(ann_file) if ann_file else None

    @staticmethod
    def _load_references(ann_file: str) -> Dict[int, List[str]]:
        import mmengine
        data = mmengine.load(ann_file)
        if not isinstance(data, dict) or 'annotations' not in data:
            raise ValueError(f'CaptionMetric: {ann_file} is not a COCO captions file '
                             '(no "annotations" list)')
        refs: Dict[int, List[str]] = {}
        for ann in data['annotations']:
            if 'image_id' not in ann or 'caption' not in ann:
                raise ValueError(f'CaptionMetric: an annotation of {ann_file} lacks image_id or '
                                 f'caption: {ann}')
            refs.setdefault(ann['image_id'], []).append(ann['caption'])
        return refs

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store (id, candidate, references) of every sample."""
        for sample in data_samples:
            if self.pred_key not in sample:
                raise KeyError(f'CaptionMetric needs `{self.pred_key}` in every data sample '
                               f'(got keys {sorted(sample)})')
            pred = sample[self.pred_key]
            if isinstance(pred, (list, tuple)):
                pred = pred[0]
            if self._refs_by_img is not None:
                img_id = sample.get('img_id')
                if img_id not in self._refs_by_img:
                    raise KeyError(f'CaptionMetric: image id {img_id!r} has no caption in '
                                   f'{self.ann_file}')
                refs = self._refs_by_img[img_id]
            elif self.gt_key in sample:
                refs = sample[self.gt_key]
                refs = [refs] if isinstance(refs, str) else list(refs)
            else:
                raise KeyError(f'CaptionMetric: no `{self.gt_key}` in the data sample and no '
                               'ann_file to look the references up')
            key = sample.get('img_id', sample.get('img_path', len(self.results)))
            self.results.append((key, str(pred), [str(r) for r in refs]))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """BLEU-1..4 and / or CIDEr (percent) of the whole split.

        A repeated id (the same image twice, e.g. several captions per image in the data list)
        is scored once, with its first candidate.
        """
        gts, res = OrderedDict(), OrderedDict()
        for key, pred, refs in results:
            if key in res:
                continue
            res[key] = ptb_tokenize(pred)
            gts[key] = [ptb_tokenize(r) for r in refs]
        metrics = OrderedDict()
        if 'BLEU' in self.metrics:
            for n, value in enumerate(corpus_bleu(gts, res), start=1):
                metrics[f'BLEU-{n}'] = 100.0 * value
        if 'CIDEr' in self.metrics:
            metrics['CIDEr'] = 100.0 * cider_d(gts, res)[0]
        MMLogger.get_current_instance().info(
            f'Captioning over {len(res)} images: ' +
            ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()))
        return metrics
