# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Batch-invariant prediction: what a model predicts for an image must not depend on what else
is in its batch.

A data preprocessor pads every image of a batch to the largest one (mmdet, mmpose) or refuses
images of different sizes (mmseg at test time). Padding is not neutral for a convolutional or
attention network: it changes the features near the border, global pooling and attention over
the whole map, so the same photo predicted alone and next to a larger one gives different
masks. The release of every method evaluates one image per GPU, where this never happens.

:func:`predict_by_shape` splits a batch into groups of inputs of equal shape, runs each group on
its own and puts the outputs back in input order: every image is then padded exactly as when it
is predicted alone (a group of equally sized images gets no padding from the others), whatever
the batch size of the test dataloader or the inferencer. A batch whose inputs all have one
shape (the usual case: fixed-size crops, resized datasets, the parity tests) goes through in
one call, unchanged. :class:`BatchInvariantMixin` applies it to a model's ``val_step`` and
``test_step``, which ``tools/test.py``, the validation loop and the Inferencers call.
"""
from typing import Any, Callable, Dict, List, Sequence

from torch import Tensor

__all__ = ['shape_groups', 'predict_by_shape', 'BatchInvariantMixin']


def shape_groups(inputs: Sequence[Tensor]) -> List[List[int]]:
    """Indices of ``inputs`` grouped by tensor shape.

    Args:
        inputs (Sequence[Tensor]): The inputs of one batch, e.g. ``(3, H_i, W_i)`` images.

    Returns:
        list[list[int]]: One list of indices per distinct shape, the groups in the order of
        their first input and the indices ascending in each group.

    Example:
        >>> shape_groups([torch.zeros(3, 4, 4), torch.zeros(3, 2, 4), torch.zeros(3, 4, 4)])
        [[0, 2], [1]]
    """
    groups: Dict[tuple, List[int]] = {}
    for index, item in enumerate(inputs):
        groups.setdefault(tuple(item.shape), []).append(index)
    return list(groups.values())


def _take(value: Any, index: List[int], size: int) -> Any:
    """The items ``index`` of a per-sample field (list, tuple or batched tensor of ``size``
    items); anything else (a batch-level field) as it is."""
    if isinstance(value, (list, tuple)) and len(value) == size:
        return [value[i] for i in index]
    if isinstance(value, Tensor) and value.dim() > 0 and value.shape[0] == size:
        return value[index]
    return value


def predict_by_shape(step: Callable[[dict], Sequence], data: Any) -> list:
    """Run ``step`` once per group of equally shaped inputs and reassemble its outputs.

    Args:
        step (Callable[[dict], Sequence]): A ``test_step``-like function: a data batch
            ``dict(inputs=..., data_samples=...)`` in, one output per input out.
        data (dict): The data batch as the dataloader (``pseudo_collate``) or an Inferencer
            gives it: ``inputs`` a list of tensors, every other per-sample field (e.g.
            ``data_samples``) a list of the same length.

    Returns:
        list: The outputs of ``step`` in the order of ``data['inputs']``.

    A batch that is not a dict with a list of tensor ``inputs`` (an already stacked tensor, a
    TTA batch) or whose inputs all have one shape is given to ``step`` as it is.
    """
    inputs = data.get('inputs') if isinstance(data, dict) else None
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, Tensor) for x in inputs):
        return step(data)
    groups = shape_groups(inputs)
    if len(groups) <= 1:
        return step(data)
    size = len(inputs)
    outputs: List[Any] = [None] * size
    for index in groups:
        results = step({key: _take(value, index, size) for key, value in data.items()})
        if len(results) != len(index):
            raise RuntimeError(f'the step returned {len(results)} outputs for a group of '
                               f'{len(index)} inputs')
        for i, result in zip(index, results):
            outputs[i] = result
    return outputs


class BatchInvariantMixin:
    """Mixin of a :class:`~mmengine.model.BaseModel` whose ``val_step`` and ``test_step`` run
    every group of equally sized inputs of a batch on its own (:func:`predict_by_shape`), so
    that a prediction does not depend on the other images of the batch.

    Put it first among the bases, e.g. ``class XDecoder(BatchInvariantMixin, BaseModel)``;
    ``forward`` / ``predict`` called directly on a tensor batch are unchanged.
    """

    def val_step(self, data: Any) -> list:
        return predict_by_shape(super().val_step, data)

    def test_step(self, data: Any) -> list:
        return predict_by_shape(super().test_step, data)
