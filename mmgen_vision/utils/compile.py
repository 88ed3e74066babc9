# Copyright (c) mmgen_vision contributors. All rights reserved.
"""``torch.compile`` of the model's steps (MMEngine's ``compile`` runner setting) and the
counters that tell whether a compiled step keeps recompiling.

MMEngine 0.10 compiles ``model.train_step`` only (``Runner.train``), with ``compile=True`` or
``compile=dict(backend=..., mode=...)`` in the config. :class:`CheckedRunner` also compiles
``val_step`` and ``test_step`` with the same options (:func:`compile_model_steps`) and hands
the optimizer plain-``dict`` parameter groups (:func:`plain_param_groups`), which Dynamo needs
to trace ``optimizer.step`` inside the compiled ``train_step``.
"""
from typing import Optional, Sequence, Union

import torch
from torch import nn

#: Attribute of a model that lists the steps already compiled (compiling twice would nest).
_COMPILED_ATTR = '_mmgen_vision_compiled_steps'


def compile_options(compile_cfg: Union[None, bool, dict]) -> Optional[dict]:
    """The keyword arguments of ``torch.compile`` for a ``compile`` runner setting.

    Args:
        compile_cfg (None | bool | dict): ``None`` / ``False``: no compilation; ``True``: the
            defaults (inductor); a dict: ``torch.compile`` keyword arguments.

    Returns:
        dict | None: The keyword arguments, or ``None`` when nothing is compiled.
    """
    if compile_cfg is None or compile_cfg is False:
        return None
    if compile_cfg is True:
        return dict()
    if not isinstance(compile_cfg, dict):
        raise TypeError(f'compile must be a bool or a dict of torch.compile options, got '
                        f'{type(compile_cfg).__name__}')
    return dict(compile_cfg)


def enable_compile(cfg, backend: str = 'inductor'):
    """``--compile``: set the config's ``compile`` runner setting (changed in place, returned).

    Args:
        cfg (Config): The config.
        backend (str): The ``torch.compile`` backend; ``'inductor'`` (the default) sets
            ``compile=True``, another ``compile=dict(backend=backend)``.
    """
    cfg.compile = True if backend == 'inductor' else dict(backend=backend)
    return cfg


def compile_model_steps(model: nn.Module, targets: Sequence[str],
                        compile_cfg: Union[None, bool, dict]) -> nn.Module:
    """Replace ``model.<target>`` by its ``torch.compile``-d version, once per target.

    A model whose step is a loop (Peekaboo's test-time optimisation builds an optimiser and
    fresh variables per batch) sets ``compile_instead = {step: (method, ...)}``: those methods,
    the work of one iteration, are compiled and the step itself runs eagerly.

    Args:
        model (nn.Module): The model (or model wrapper) whose steps are compiled in place.
        targets (Sequence[str]): Step names, e.g. ``('train_step', 'test_step')``.
        compile_cfg (None | bool | dict): See :func:`compile_options`.

    Returns:
        nn.Module: ``model``.
    """
    options = compile_options(compile_cfg)
    if options is None:
        return model
    done = model.__dict__.setdefault(_COMPILED_ATTR, set())
    if not done:
        eager_data_preprocessor(model)
    module = getattr(model, 'module', model)
    for target in targets:
        # a model whose step runs an optimisation loop names the per-iteration method to
        # compile instead (``compile_instead = dict(test_step=('problem_step', ))``)
        names = getattr(module, 'compile_instead', {}).get(target)
        owner, names = (module, names) if names else (model, (target, ))
        for name in names:
            if name in done:
                continue
            setattr(owner, name, torch.compile(getattr(owner, name), **options))
            done.add(name)
    return model


@torch.compiler.disable  # called from eager frames; Dynamo cannot trace it
def mark_dynamic(tensor: Optional[torch.Tensor], dims: Sequence[int]) -> None:
    """Let a compiled graph that receives ``tensor`` keep ``dims`` symbolic from its first
    compilation (``torch._dynamo.maybe_mark_dynamic``; no effect on eager computation).

    Dynamo compiles a graph for the first shapes it sees and a shape-generic one when a size
    changes; a size known to change from batch to batch (batch size, image size, number of
    phrases, caption length) marked here costs one graph instead of two. ``None`` is skipped.
    """
    if tensor is not None:
        torch._dynamo.maybe_mark_dynamic(tensor, list(dims))


def eager_data_preprocessor(model: nn.Module) -> nn.Module:
    """Run the model's data preprocessor outside the compiled graphs (in place).

    MMEngine's ``BaseDataPreprocessor.cast_data`` moves every data sample with
    ``BaseDataElement.to``, which deep-copies its metainfo: traced, Dynamo guards on the
    identity of every metainfo string (image paths, task names) and recompiles on each new
    batch until its cache limit sends the step back to eager. The preprocessor's work (device
    transfer, padding, stacking, normalisation) is cheap and shape-varied, so it runs eagerly
    and the model's forward, loss and backward are compiled.
    """
    module = getattr(model, 'module', model)  # model wrappers (DDP) keep the model in .module
    preprocessor = getattr(module, 'data_preprocessor', None)
    if isinstance(preprocessor, nn.Module) and 'forward' not in preprocessor.__dict__:
        preprocessor.forward = torch.compiler.disable(preprocessor.forward)
    return model


def eager_update_params(optim_wrapper) -> None:
    """Run ``optim_wrapper.update_params`` (backward, clipping, step) outside the compiled
    graphs (in place; an ``OptimWrapperDict`` for each of its wrappers).

    The backward of a compiled forward is compiled by AOTAutograd whichever way it is called;
    traced by Dynamo, the wrapper's logging (``MessageHub.update_scalar`` of the gradient norm
    with ``clip_grad``) puts the norm's value and the history's length into guards, which fail
    at every step.
    """
    wrappers = getattr(optim_wrapper, 'optim_wrappers', None) or {'': optim_wrapper}
    for wrapper in wrappers.values():
        if 'update_params' not in wrapper.__dict__:
            wrapper.update_params = torch.compiler.disable(wrapper.update_params)


def plain_param_groups(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Turn the optimizer's parameter groups into plain ``dict`` objects, in place.

    The registry builds the optimizer from a config, so parameter groups given by a constructor
    (``paramwise_cfg``, layer-wise decay) arrive as ``ConfigDict``. Dynamo cannot trace
    ``optimizer.step`` over ``dict`` subclasses (an internal error in ``_set_capturable``), so a
    compiled ``train_step`` would fail. Values and order are kept; the optimizer's state is keyed
    by parameter and is not touched.
    """
    optimizer.param_groups[:] = [
        group if type(group) is dict else dict(group) for group in optimizer.param_groups
    ]
    return optimizer


class CompileCounter:
    """Counts what Dynamo did between :meth:`snapshot` calls.

    ``graphs``: graphs compiled (a step that compiles none after the first call reuses its
    cache; a new graph at the same code is a recompilation); ``graph_breaks``: graph breaks
    met while tracing (reasons in :attr:`break_reasons`).
    """

    def __init__(self) -> None:
        self._last = self._read()

    @staticmethod
    def _read() -> dict:
        from torch._dynamo.utils import counters
        return dict(
            graphs=counters['stats']['unique_graphs'],
            graph_breaks=sum(counters['graph_break'].values()))

    @property
    def break_reasons(self) -> dict:
        """``{reason: count}`` of every graph break of the process so far."""
        from torch._dynamo.utils import counters
        return dict(counters['graph_break'])

    def snapshot(self) -> dict:
        """``{'graphs': n, 'graph_breaks': m}`` since the previous snapshot (or creation)."""
        now = self._read()
        delta = {k: now[k] - self._last[k] for k in now}
        self._last = now
        return delta
