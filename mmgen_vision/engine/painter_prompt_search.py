# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Prompt search (paper Sec. 3.3): score candidate prompt pairs, keep the best, then evaluate."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dataset import pseudo_collate
from mmengine.runner import TestLoop

from mmgen_vision.registry import DATASETS, LOOPS


@LOOPS.register_module()
class PainterPromptSearchLoop(TestLoop):
    """A test loop that first picks the prompt, then evaluates the whole test set with it.

    Each candidate (sample ``i`` of ``candidates['dataset']``, usually a training subset) is set
    as the prompt of the test dataset (a :class:`PainterInContextDataset`) and scored with the
    test evaluator on the search subset: ``search_dataset`` (a stock dataset config of a
    held-out split, packed like the test set) or, without it, the first ``search_size`` test
    samples. The best candidate (``rule``) becomes the prompt of the final evaluation; the
    scores are logged and written to ``<work_dir>/prompt_search.json``.

    Args:
        runner, dataloader, evaluator: As :class:`mmengine.runner.TestLoop`.
        candidates (dict): ``dataset`` (stock dataset config, loading pipeline) and ``indices``
            (default ``range(num)``) / ``num``.
        metric (str): Key of the evaluator's result to optimise (e.g. ``'mIoU'``).
        rule (str): ``'greater'`` or ``'less'`` (e.g. for RMSE).
        search_dataset (dict, optional): Inner (stock, packed) dataset of the search subset.
        search_size (int): Samples of the search subset.
        batch_size (int): Batch size while searching.
    """

    def __init__(self, runner, dataloader, evaluator, candidates: dict, metric: str,
                 rule: str = 'greater', search_dataset: Optional[dict] = None,
                 search_size: int = 16, batch_size: int = 8, fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        if rule not in ('greater', 'less'):
            raise ValueError(f"rule must be 'greater' or 'less', got {rule!r}")
        if 'dataset' not in candidates:
            raise KeyError('candidates needs a `dataset` (the pool of prompt pairs)')
        self.candidates = dict(candidates)
        self.metric, self.rule = metric, rule
        self.search_dataset_cfg = search_dataset
        self.search_size, self.batch_size = search_size, batch_size

    def _search_set(self, pool):
        test_set = self.dataloader.dataset
        if not hasattr(test_set, 'set_prompt'):
            raise TypeError('PainterPromptSearchLoop needs a PainterInContextDataset as the test '
                            f'dataset, got {type(test_set).__name__}')
        if self.search_dataset_cfg is None:
            return test_set, list(range(min(self.search_size, len(test_set))))
        inner = DATASETS.build(self.search_dataset_cfg)
        search = type(test_set)(inner, test_set.task, test_set.codec,
                                prompt=dict(dataset=pool, index=0), img_size=test_set.img_size,
                                query_bgr=test_set.query_bgr)
        return search, list(range(min(self.search_size, len(search))))

    @torch.no_grad()
    def score(self, dataset, indices: Sequence[int]) -> Dict[str, float]:
        """Evaluate the model on ``dataset[indices]`` with the loop's evaluator."""
        model = self.runner.model
        model.eval()
        for start in range(0, len(indices), self.batch_size):
            batch = pseudo_collate([dataset[i] for i in indices[start:start + self.batch_size]])
            outputs = model.test_step(batch)
            self.evaluator.process(data_samples=outputs, data_batch=batch)
        return self.evaluator.evaluate(len(indices))

    def search(self) -> Dict[str, object]:
        """Score every candidate; set the best as the test prompt; return the record."""
        pool = DATASETS.build(self.candidates['dataset'])
        indices: List[int] = list(self.candidates.get(
            'indices', range(min(self.candidates.get('num', 8), len(pool)))))
        search_set, subset = self._search_set(pool)
        scores = []
        for idx in indices:
            search_set.set_prompt(dataset=pool, index=idx)
            result = self.score(search_set, subset)
            key = self.metric if self.metric in result else next(
                (k for k in result if k.split('/')[-1] == self.metric), None)
            if key is None:
                raise KeyError(f'metric {self.metric!r} is not among the evaluator results '
                               f'{sorted(result)}')
            scores.append(float(result[key]))
            self.runner.logger.info(f'prompt candidate {idx}: {self.metric} {scores[-1]:.4f}')
        pick = max if self.rule == 'greater' else min
        best = indices[scores.index(pick(scores))]
        self.dataloader.dataset.set_prompt(dataset=pool, index=best)
        record = dict(metric=self.metric, rule=self.rule, candidates=indices, scores=scores,
                      best_index=best, best_prompt=self.dataloader.dataset.prompt_source,
                      search_size=len(subset))
        with open(osp.join(self.runner.work_dir, 'prompt_search.json'), 'w') as f:
            json.dump(record, f, indent=2)
        self.runner.logger.info(f'prompt search: best candidate {best} '
                                f'({self.metric} {pick(scores):.4f})')
        return record

    def run(self) -> dict:
        self.search_record = self.search()
        metrics = super().run()
        return metrics
