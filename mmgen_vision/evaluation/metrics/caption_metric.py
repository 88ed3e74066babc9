# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-captioning metrics in pure Python: BLEU-4 and CIDEr-D as the COCO caption evaluation
computes them, without its Java (Stanford PTB) tokenizer.

- :func:`ptb_tokenize`: lower-case, split off the PTB clitics (``n't``, ``'s``, ...) and drop
  punctuation, which is what the COCO evaluation's tokenizer pipeline amounts to for captions.
- :func:`corpus_bleu`: corpus-level BLEU-1..4 (clipped n-gram precisions summed over the whole
  corpus, geometric mean, brevity penalty with the reference length *closest* to each candidate,
  ties to the shorter reference).
- :func:`cider_d`: CIDEr-D (tf-idf n-gram vectors with the document frequencies of the
  evaluated references, n = 1..4, clipped candidate weights, Gaussian length penalty with
  sigma 6, scaled by 10).
"""
import math
import re
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgen_vision.registry import METRICS

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


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the ``n``-grams (tuples) of ``tokens``."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _check_corpus(gts: Dict, res: Dict) -> None:
    if set(gts) != set(res):
        missing = sorted(set(res) - set(gts), key=str)[:5]
        extra = sorted(set(gts) - set(res), key=str)[:5]
        raise ValueError('references and candidates must have the same ids: ids without '
                         f'references {missing}, ids without a candidate {extra}')
    for key, refs in gts.items():
        if len(refs) == 0:
            raise ValueError(f'image {key!r} has no reference caption')


def corpus_bleu(gts: Dict[object, List[List[str]]],
                res: Dict[object, List[str]],
                max_n: int = 4) -> List[float]:
    """Corpus-level BLEU-1..``max_n`` (fractions in [0, 1]).

    For each n, the clipped matches ``sum_i sum_g min(c_i(g), max_r c_ir(g))`` and the candidate
    n-gram count ``sum_i (len_i - n + 1)`` are summed over the corpus, ``p_n = matches /
    count`` (a 1e-15 floor on the matches and 1e-9 on the count keep the log finite, as the COCO
    evaluation does). ``BLEU-N = BP * exp(mean_{n<=N} log p_n)`` with ``BP = exp(1 - r / c)`` if
    ``c < r`` else 1, ``c`` the total candidate length and ``r`` the sum over images of the
    reference length closest to the candidate's (ties: the shorter one).

    Args:
        gts (dict): Image id -> list of tokenized reference captions.
        res (dict): Image id -> tokenized candidate caption.
        max_n (int): Highest n-gram order. Defaults to 4.

    Returns:
        list[float]: ``[BLEU-1, ..., BLEU-max_n]``.
    """
    _check_corpus(gts, res)
    matches = [0] * max_n
    totals = [0] * max_n
    cand_len = ref_len = 0
    for key, cand in res.items():
        refs = gts[key]
        cand_len += len(cand)
        ref_len += min((abs(len(r) - len(cand)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = ngram_counts(cand, n)
            max_ref = Counter()
            for ref in refs:
                for gram, count in ngram_counts(ref, n).items():
                    max_ref[gram] = max(max_ref[gram], count)
            matches[n - 1] += sum(min(c, max_ref[g]) for g, c in counts.items())
            totals[n - 1] += max(len(cand) - n + 1, 0)
    tiny, small = 1e-15, 1e-9
    if cand_len == 0:
        return [0.0] * max_n
    penalty = 1.0 if cand_len >= ref_len else math.exp(1.0 - ref_len / cand_len)
    scores, log_sum = [], 0.0
    for n in range(max_n):
        log_sum += math.log((matches[n] + tiny) / (totals[n] + small))
        scores.append(penalty * math.exp(log_sum / (n + 1)))
    return scores


def _tfidf(counts: Sequence[Counter], doc_freq: Counter,
           log_num_docs: float) -> Tuple[List[Dict], List[float]]:
    """tf-idf vectors (one dict per n) and their L2 norms."""
    vecs, norms = [], []
    for counter in counts:
        vec = {g: tf * (log_num_docs - math.log(max(1.0, doc_freq[g])))
               for g, tf in counter.items()}
        vecs.append(vec)
        norms.append(math.sqrt(sum(v * v for v in vec.values())))
    return vecs, norms


def cider_d(gts: Dict[object, List[List[str]]],
            res: Dict[object, List[str]],
            max_n: int = 4,
            sigma: float = 6.0) -> Tuple[float, Dict[object, float]]:
    """CIDEr-D of a corpus and of each image.

    The document frequency ``df(g)`` of an n-gram is the number of images whose references
    contain it, over the evaluated references; ``idf(g) = log(N_images) - log(max(1, df(g)))``.
    A sentence's n-vector is ``tf(g) * idf(g)`` for its n-grams (``tf`` = raw count). For a
    candidate ``c`` and a reference ``r`` of ``L_c``, ``L_r`` words::

        sim_n = exp(-(L_c - L_r)^2 / (2 sigma^2)) * sum_g min(c_n(g), r_n(g)) r_n(g)
                / (|c_n| |r_n|)                  (0 when a norm is 0)

    and the image's score is ``10 * mean_r mean_n sim_n``. The corpus score is the mean over
    images.

    Args:
        gts (dict): Image id -> list of tokenized reference captions.
        res (dict): Image id -> tokenized candidate caption.
        max_n (int): Highest n-gram order. Defaults to 4.
        sigma (float): Length-penalty standard deviation. Defaults to 6.

    Returns:
        tuple[float, dict]: The corpus CIDEr-D and the score of each image id.
    """
    _check_corpus(gts, res)
    ref_counts = {k: [[ngram_counts(r, n) for n in range(1, max_n + 1)] for r in refs]
                  for k, refs in gts.items()}
    doc_freq = Counter()
    for per_ref in ref_counts.values():
        doc_freq.update(set(g for counts in per_ref for counter in counts for g in counter))
    log_num_docs = math.log(float(len(gts)))
    per_image = OrderedDict()
    for key, cand in res.items():
        cand_vec, cand_norm = _tfidf([ngram_counts(cand, n) for n in range(1, max_n + 1)],
                                     doc_freq, log_num_docs)
        total = 0.0
        for ref, counts in zip(gts[key], ref_counts[key]):
            ref_vec, ref_norm = _tfidf(counts, doc_freq, log_num_docs)
            penalty = math.exp(-((len(cand) - len(ref))**2) / (2.0 * sigma**2))
            for n in range(max_n):
                if cand_norm[n] == 0 or ref_norm[n] == 0:
                    continue
                dot = sum(min(v, ref_vec[n].get(g, 0.0)) * ref_vec[n].get(g, 0.0)
                          for g, v in cand_vec[n].items())
                total += penalty * dot / (cand_norm[n] * ref_norm[n])
        per_image[key] = 10.0 * total / (max_n * len(gts[key]))
    corpus = sum(per_image.values()) / max(len(per_image), 1)
    return corpus, per_image


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
