# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-text retrieval Recall@K in both directions (COCO / Flickr30k protocol: every image
has several captions, every caption one image; optionally identical captions count as one
answer shared by their images)."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgen_vision.registry import METRICS


def retrieval_ranks(similarity: torch.Tensor,
                    positives: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """0-based rank of the first correct answer of every query, ties counted against it.

    Args:
        similarity (Tensor): ``(N_img, N_txt)`` image-text scores.
        positives (Tensor): either ``(N_txt,)`` long, the image index of every text (every
            text is a positive of its own image only), or ``(N_img, N_txt)`` bool, which texts
            are correct answers of which image (every text must be a positive of at least one
            image).

    Returns:
        tuple[Tensor, Tensor]: ``(N_img,)`` image->text ranks: the number of *wrong* texts
        scoring at least as high as the image's best positive text; ``(N_txt,)`` text->image
        ranks: the number of wrong images scoring at least as high as the text's best positive
        image. Counting ties as losses keeps a constant (untrained) similarity at 0% instead of
        100%.
    """
    num_img, num_txt = similarity.shape
    if positives.dim() == 1:
        index = positives
        positives = torch.zeros(num_img, num_txt, dtype=torch.bool)
        positives[index, torch.arange(num_txt)] = True
    positives = positives.to(torch.bool)
    if tuple(positives.shape) != (num_img, num_txt) or not positives.any(dim=0).all():
        raise ValueError('retrieval_ranks: positives must give every one of the '
                         f'{num_txt} texts at least one of the {num_img} images, got shape '
                         f'{tuple(positives.shape)}')
    neg_inf = torch.finfo(similarity.dtype).min
    masked = similarity.masked_fill(~positives, neg_inf)
    best_text = masked.max(dim=1).values  # (N_img,); -inf for an image without a text
    i2t = ((similarity >= best_text[:, None]) & ~positives).sum(dim=1)
    best_image = masked.max(dim=0).values  # (N_txt,)
    t2i = ((similarity >= best_image[None, :]) & ~positives).sum(dim=0)
    return i2t, t2i


def identical_caption_positives(captions: Sequence[Sequence[str]]) -> torch.Tensor:
    """Which texts are correct answers of which image when identical captions are one answer.

    Text ``t`` (the captions of all images, concatenated in order) is a positive of image
    ``i`` when its string, whitespace-normalised, is one of image ``i``'s captions. Identical
    strings get identical embeddings from any text encoder, so no model can rank one copy above
    the other: with positives by index a generic caption shared by several images ("a picture
    of green shapes on the grass") is a miss for every one of them even when it is ranked
    first.

    Args:
        captions (Sequence[Sequence[str]]): the captions of every image, ``N_img`` lists.

    Returns:
        Tensor: ``(N_img, N_txt)`` bool.
    """
    string_ids: Dict[str, int] = {}
    text_ids = [[string_ids.setdefault(' '.join(str(c).split()), len(string_ids)) for c in caps]
                for caps in captions]
    has_string = torch.zeros(len(text_ids), len(string_ids), dtype=torch.bool)  # (N_img, S)
    for i, ids in enumerate(text_ids):
        has_string[i, ids] = True
    return has_string[:, [t for ids in text_ids for t in ids]]


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Recall@K of image->text and text->image retrieval (percent).

    Every data sample is one image with its embedding under ``image_key`` (``(D,)``) and the
    embeddings of its captions under ``text_key`` (``(N_i, D)``, ``N_i >= 1``; a ``(D,)`` tensor
    is one caption). Both are L2-normalised here, the score is their cosine. All captions of the
    split are the gallery of every image query and all images the gallery of every caption
    query. An image query is a hit at K when one of its captions ranks in the top K; a caption
    query when its image does. Ties count against the query (see :func:`retrieval_ranks`).

    Identical captions: when ``match_identical_captions`` is on and every sample carries its
    caption strings under ``caption_key`` (one per embedding), a caption that is word for word
    the same as one of an image's own captions is a correct answer for that image too (in both
    directions; see :func:`identical_caption_positives`). Templated or generic captions repeat
    across images (ShapesWorld val: 80 captions, 63 distinct strings), and with positives by
    index a model that ranks an image's own shared caption first would be scored a miss. COCO
    Karpathy test has almost no repeated captions; the paper configs keep the release's
    by-index protocol (``match_identical_captions=False``). Without caption strings the metric
    falls back to positives by index and says so in the log.

    Output keys: ``i2t_R@K`` and ``t2i_R@K`` for every K, and ``rsum`` (their sum).

    Args:
        topk (Sequence[int]): The K values. Defaults to (1, 5, 10).
        image_key (str): Data-sample key of the image embedding. Defaults to
            ``'image_embeds'``.
        text_key (str): Data-sample key of the caption embeddings. Defaults to
            ``'text_embeds'``.
        caption_key (str): Data-sample key of the caption strings. Defaults to
            ``'captions'``.
        match_identical_captions (bool): Count identical captions as positives of every
            image that has them. Defaults to True.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'retrieval'``.
    """
    default_prefix: Optional[str] = 'retrieval'

    def __init__(self,
                 topk: Sequence[int] = (1, 5, 10),
                 image_key: str = 'image_embeds',
                 text_key: str = 'text_embeds',
                 caption_key: str = 'captions',
                 match_identical_captions: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = [topk] if isinstance(topk, int) else [int(k) for k in topk]
        if not topk or any(k < 1 for k in topk):
            raise ValueError(f'RetrievalMetric: topk must be positive integers, got {topk}')
        self.topk = topk
        self.image_key = image_key
        self.text_key = text_key
        self.caption_key = caption_key
        self.match_identical_captions = match_identical_captions

    def _get(self, sample: dict, key: str) -> torch.Tensor:
        if key not in sample:
            raise KeyError(f'RetrievalMetric needs `{key}` in every data sample '
                           f'(got keys {sorted(sample)})')
        value = sample[key]
        if isinstance(value, dict) and 'data' in value:  # a packed PixelData / element
            value = value['data']
        return torch.as_tensor(value).detach().float().cpu()

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Store the image embedding and the caption embeddings of every sample."""
        for sample in data_samples:
            image = self._get(sample, self.image_key).reshape(-1)
            texts = self._get(sample, self.text_key)
            texts = texts[None] if texts.dim() == 1 else texts
            if texts.dim() != 2 or texts.shape[0] == 0 or texts.shape[1] != image.shape[0]:
                raise ValueError(
                    f'RetrievalMetric: {sample.get("img_path", "a sample")} has an image '
                    f'embedding of size {image.shape[0]} and caption embeddings of shape '
                    f'{tuple(texts.shape)}; expected (N >= 1, {image.shape[0]})')
            captions = sample.get(self.caption_key)
            if isinstance(captions, str):
                captions = [captions]
            if captions is not None and len(captions) != texts.shape[0]:
                raise ValueError(
                    f'RetrievalMetric: {sample.get("img_path", "a sample")} has '
                    f'{len(captions)} strings under `{self.caption_key}` but '
                    f'{texts.shape[0]} caption embeddings')
            self.results.append((image, texts, captions))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Recall@K (percent) in both directions and their sum."""
        images = F.normalize(torch.stack([r[0] for r in results]), dim=-1)
        texts = F.normalize(torch.cat([r[1] for r in results]), dim=-1)
        by_identity = self.match_identical_captions and all(r[2] is not None for r in results)
        if by_identity:
            positives = identical_caption_positives([r[2] for r in results])
            rule = (f'identical captions are one answer ({int(positives.sum())} image-caption '
                    f'pairs, {texts.shape[0]} by index)')
        else:
            positives = torch.cat([
                torch.full((r[1].shape[0], ), i, dtype=torch.long)
                for i, r in enumerate(results)
            ])
            rule = 'positives by index' + (
                f' (no `{self.caption_key}` strings in the samples)'
                if self.match_identical_captions else '')
        i2t, t2i = retrieval_ranks(images @ texts.t(), positives)
        metrics = OrderedDict()
        for name, ranks in (('i2t', i2t), ('t2i', t2i)):
            ranks = ranks.numpy()
            for k in self.topk:
                metrics[f'{name}_R@{k}'] = float(100.0 * np.mean(ranks < k))
        metrics['rsum'] = float(sum(metrics.values()))
        MMLogger.get_current_instance().info(
            f'Retrieval over {images.shape[0]} images and {texts.shape[0]} captions, '
            f'{rule}: ' +
            ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()))
        return metrics
