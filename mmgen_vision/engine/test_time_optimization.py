# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Test-time optimisation: the loop that fits a training-free model's free variables to each
test batch, and the writer that dumps their evolution as PNGs.

Peekaboo segments by optimising fresh alpha masks for every batch. The model
(:class:`~mmgen_vision.models.peekaboo.PeekabooSegmentor`) owns the method: the problem
(alphas, composites, dream and regularisation losses, label maps); this loop owns the
optimisation around it (optimiser, iterations, progress bar, evolution dumps), as a runner's
loop owns a training schedule. The model builds it from its config (``LOOPS``, type
``'TestTimeOptimizationLoop'``) and calls it from ``predict``, so ``tools/test.py`` and the
Inferencers drive it through the ordinary ``test_step``.

The model side of the contract (duck-typed, so the loop serves any such model):

* ``init_problem(images, prompts) -> problem`` with ``problem.alpha`` (an ``nn.Module`` whose
  parameters are optimised);
* ``problem_step(problem) -> (alphas, loss)``: one forward pass with the gradients of the loss
  accumulated into ``problem.alpha``'s parameters; ``alphas (B, k, h, w)`` detached, ``loss`` a
  detached scalar;
* ``final_alphas(problem) -> (B, k, h, w)``: the result after the last step.
"""
import os
import os.path as osp
from typing import Any, List, Optional, Sequence

import mmcv
import numpy as np
import torch
from torch import Tensor

from mmgen_vision.registry import LOOPS, OPTIMIZERS


class MaskEvolutionWriter:
    """Write masks ``(B, k, h, w)`` in ``[0, 1]`` as one grey PNG per image (the ``k`` masks
    side by side): ``<out_dir>/<image name>/iter_<it:05d>.png``.

    Args:
        out_dir (str): Root folder (created on the first write).
        interval (int): Write every ``interval`` iterations (and after the last one).
            Defaults to 50.
    """

    def __init__(self, out_dir: str, interval: int = 50) -> None:
        if interval < 1:
            raise ValueError(f'evolution interval must be >= 1, got {interval}')
        self.out_dir = out_dir
        self.interval = interval

    def after_iter(self, it: int, alphas: Tensor, metas: Optional[Sequence[dict]]) -> None:
        """Write the masks of iteration ``it`` if it is on the interval."""
        if it % self.interval == 0:
            self.write(it, alphas, metas)

    def write(self, it: int, alphas: Tensor, metas: Optional[Sequence[dict]]) -> None:
        """Write the masks of iteration ``it`` (image names from ``metas[i]['img_path']``)."""
        for i, masks in enumerate(alphas):
            meta = metas[i] if metas else {}
            name = osp.splitext(osp.basename(str(meta.get('img_path') or f'image_{i}')))[0]
            out_dir = osp.join(self.out_dir, name)
            os.makedirs(out_dir, exist_ok=True)
            grid = torch.cat(list(masks), dim=-1).clamp(0, 1).mul(255).byte().cpu().numpy()
            mmcv.imwrite(np.ascontiguousarray(grid), osp.join(out_dir, f'iter_{it:05d}.png'))


@LOOPS.register_module()
class TestTimeOptimizationLoop:
    """Optimise a model's per-batch variables for ``num_iters`` steps (see the module
    docstring for the model's side of the contract).

    Args:
        num_iters (int): Optimisation steps per batch. Defaults to 300.
        optimizer (dict): Optimizer config (``params`` filled in), built in the
            ``mmgen_vision`` scope. Defaults to ``dict(type='SGD', lr=1e-5)``.
        show_progress (bool): A progress bar per batch with the loss. Defaults to True.
        evolution_dir (str, optional): Write the masks every ``evolution_interval`` steps and
            after the last with :class:`MaskEvolutionWriter`. Defaults to None.
        evolution_interval (int): Defaults to 50.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self,
                 num_iters: int = 300,
                 optimizer: Optional[dict] = None,
                 show_progress: bool = True,
                 evolution_dir: Optional[str] = None,
                 evolution_interval: int = 50) -> None:
        self.num_iters = num_iters
        self.optimizer_cfg = dict(optimizer or dict(type='SGD', lr=1e-5))
        self.show_progress = show_progress
        self.evolution_dir = evolution_dir
        self.evolution_interval = evolution_interval

    @property
    def writer(self) -> Optional[MaskEvolutionWriter]:
        """The evolution writer of the current settings (None: no dumps)."""
        if self.evolution_dir is None:
            return None
        return MaskEvolutionWriter(self.evolution_dir, self.evolution_interval)

    @torch.enable_grad()
    def run(self, model: Any, images: Tensor, prompts: List[List[str]],
            metas: Optional[List[dict]] = None) -> Tensor:
        """Optimise the variables of one batch.

        Args:
            model: The model (``init_problem``, ``problem_step``, ``final_alphas``).
            images (Tensor): ``(B, 3, h, w)`` in ``[0, 1]``.
            prompts (list[list[str]]): ``B`` lists of ``k`` prompts.
            metas (list[dict], optional): Image metas (names of the evolution images).

        Returns:
            Tensor: The final alphas ``(B, k, h, w)`` in ``[0, 1]`` (detached, float).
        """
        problem = model.init_problem(images, prompts)
        optimizer = OPTIMIZERS.build(dict(self.optimizer_cfg, params=problem.alpha.parameters()))
        writer = self.writer
        progress = None
        if self.show_progress:
            from tqdm import tqdm
            b, k = len(prompts), len(prompts[0])
            progress = tqdm(total=self.num_iters, desc=f'Peekaboo ({b} img x {k} masks)',
                            leave=False, dynamic_ncols=True)
        for it in range(self.num_iters):
            optimizer.zero_grad(set_to_none=True)
            alphas, loss = model.problem_step(problem)
            optimizer.step()
            if writer is not None:
                writer.after_iter(it, alphas, metas)
            if progress is not None:
                progress.update(1)
                progress.set_postfix(loss=f'{loss.item():.3g}')
        if progress is not None:
            progress.close()
        final = model.final_alphas(problem)
        if writer is not None:
            writer.write(self.num_iters, final, metas)
        return final
