# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-text retrieval Recall@K in both directions (COCO / Flickr30k protocol: every image
has several captions, every caption one image)."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgen_vision.registry import METRICS


def retrieval_ranks(similarity: torch.Tensor,
                    text_to_image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """0-based rank of the first correct answer of every query, ties counted against it.

    Args:
        similarity (Tensor): ``(N_img, N_txt)`` image-text scores.
        text_to_image (Tensor): ``(N_txt,)`` long, the image index of every text.

    Returns:
        tuple[Tensor, Tensor]: ``(N_img,)`` image->text ranks: the number of *wrong* texts
        scoring at least as high as the image's best caption; ``(N_txt,)`` text->image ranks:
        the number of wrong images scoring at least as high as the text's image. Counting ties
        as losses keeps a constant (untrained) similarity at chance level instead of 100%.
    """
    num_img, num_txt = similarity.shape
    positive = torch.zeros(num_img, num_txt, dtype=torch.bool)
    positive[text_to_image, torch.arange(num_txt)] = True
    neg_inf = torch.finfo(similarity.dtype).min
    best_pos = similarity.masked_fill(~positive, neg_inf).max(dim=1).values  # (N_img,)
    i2t = ((similarity >= best_pos[:, None]) & ~positive).sum(dim=1)
    pos_score = similarity[text_to_image, torch.arange(num_txt)]  # (N_txt,)
    t2i = ((similarity >= pos_score[None, :]) & ~positive).sum(dim=0)
    return i2t, t2i


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Recall@K of image->text and text->image retrieval (percent).

    Every data sample is one image with its embedding under ``image_key`` (``(D,)``) and the
    embeddings of its captions under ``text_key`` (``(N_i, D)``, ``N_i >= 1``; a ``(D,)`` tensor
    is one caption). Both are L2-normalised here, the score is their cosine. All captions of the
    split are the gallery of every image query and all images the gallery of every caption
    query. An image query is a hit at K when one of its captions ranks in the top K; a caption
    query when its image does. Ties count against the query (see :func:`retrieval_ranks`).

    Output keys: ``i2t_R@K`` and ``t2i_R@K`` for every K, and ``rsum`` (their sum).

    Args:
        topk (Sequence[int]): The K values. Defaults to (1, 5, 10).
        image_key (str): Data-sample key of the image embedding. Defaults to
            ``'image_embeds'``.
        text_key (str): Data-sample key of the caption embeddings. Defaults to
            ``'text_embeds'``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'retrieval'``.
    """
    default_prefix: Optional[str] = 'retrieval'

    def __init__(self,
                 topk: Sequence[int] = (1, 5, 10),
                 image_key: str = 'image_embeds',
                 text_key: str = 'text_embeds',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        topk = [topk] if isinstance(topk, int) else [int(k) for k in topk]
        if not topk or any(k < 1 for k in topk):
            raise ValueError(f'RetrievalMetric: topk must be positive integers, got {topk}')
        self.topk = topk
        self.image_key = image_key
        self.text_key = text_key

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
            self.results.append((image, texts))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Recall@K (percent) in both directions and their sum."""
        images = F.normalize(torch.stack([r[0] for r in results]), dim=-1)
        texts = F.normalize(torch.cat([r[1] for r in results]), dim=-1)
        text_to_image = torch.cat(
            [torch.full((r[1].shape[0], ), i, dtype=torch.long) for i, r in enumerate(results)])
        i2t, t2i = retrieval_ranks(images @ texts.t(), text_to_image)
        metrics = OrderedDict()
        for name, ranks in (('i2t', i2t), ('t2i', t2i)):
            ranks = ranks.numpy()
            for k in self.topk:
                metrics[f'{name}_R@{k}'] = float(100.0 * np.mean(ranks < k))
        metrics['rsum'] = float(sum(metrics.values()))
        MMLogger.get_current_instance().info(
            f'Retrieval over {images.shape[0]} images and {texts.shape[0]} captions: ' +
            ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()))
        return metrics
