# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Prompt tuning (paper Sec. 3.3): freeze Painter, learn the prompt pair with the training loss.

A model, trained by the stock ``IterBasedTrainLoop`` (no loop of its own), so it stays with
Painter; it imports only the layers below it (the prompt pair is read by
``datasets.painter_prompt.load_prompt_pair``, the frozen weights by
``utils.checkpoint.load_local_checkpoint``).
"""
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from mmgen_vision.models.common.base_model import BaseTaskModel
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.checkpoint import CheckpointError, load_local_checkpoint
from .painter import Painter, SampleList


def load_frozen_painter(painter: nn.Module, filename: str) -> None:
    """Load the trained weights ``filename`` into ``painter`` strictly.

    Raises:
        CheckpointError: The checkpoint is not one of this Painter (missing or unexpected keys,
            other shapes); the message names the file.
    """
    ckpt = load_local_checkpoint(filename, map_location='cpu')
    state_dict = ckpt.get('state_dict', ckpt)
    try:
        painter.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:  # torch lists every bad key, one per line: show the first 3
        problems = [line.strip() for line in str(err).splitlines()[1:]]
        more = f'; and {len(problems) - 3} more' if len(problems) > 3 else ''
        raise CheckpointError(f'Checkpoint {filename} does not match the Painter of the prompt '
                              f'tuner strictly: {"; ".join(problems[:3])}{more}') from err


@MODELS.register_module()
class PainterPromptTuner(BaseTaskModel):
    """A frozen :class:`Painter` whose prompt (image + target halves) is learnable.

    Training: every canvas's top half is replaced by the learned prompt, the bottom target half
    is masked and the usual loss is taken there (exactly the in-context inference setting), so
    only ``prompt_img`` / ``prompt_tgt`` receive gradients. Prediction uses the learned prompt
    for every query. Run it through ``tools/train.py`` like any model (the Runner, optimiser,
    schedulers and checkpoints are the stock ones).

    Args:
        painter (dict): The :class:`Painter` config, usually with
            ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (the trained weights).
        prompt (dict): Initial prompt: ``dataset`` (+ ``index``) and ``codec`` as for
            :class:`PainterInContextDataset`, or ``img_path`` + ``target_path``.
        learn (sequence[str]): Which halves to learn: ``'img'``, ``'target'``.
        painter_checkpoint (str, optional): Trained Painter weights, loaded strictly
            (:func:`load_frozen_painter`; the file is named in the error).
        data_preprocessor (dict): Defaults to :class:`PainterDataPreprocessor`.
    """

    def __init__(self, painter: dict, prompt: dict, learn: Sequence[str] = ('img', 'target'),
                 painter_checkpoint: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        painter = MODELS.build(painter) if isinstance(painter, dict) else painter
        if painter_checkpoint is not None:
            load_frozen_painter(painter, painter_checkpoint)
        if not isinstance(painter, Painter):
            raise TypeError(f'painter must be a Painter, got {type(painter).__name__}')
        preprocessor = data_preprocessor or painter.data_preprocessor
        if isinstance(preprocessor, dict):
            preprocessor = MODELS.build(preprocessor)
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        unknown = set(learn) - {'img', 'target'}
        if unknown or not learn:
            raise ValueError(f"learn must be a non-empty subset of ('img', 'target'), got {learn}")
        self.painter = painter
        for p in self.painter.parameters():
            p.requires_grad_(False)
        h, w = painter.backbone.img_size
        img, tgt = self._initial_prompt(prompt, (h // 2, w))
        norm = self.data_preprocessor.normalize
        self.prompt_img = nn.Parameter(norm(img[None]), requires_grad='img' in learn)
        self.prompt_tgt = nn.Parameter(norm(tgt[None]), requires_grad='target' in learn)

    @staticmethod
    def _initial_prompt(prompt: dict, size) -> Sequence[Tensor]:
        from mmgen_vision.datasets.painter_prompt import load_prompt_pair
        args = dict(prompt)
        codec = args.pop('codec', dict(type='RestorationCodec'))
        img, tgt, _ = load_prompt_pair(codec, size, **args)
        return [torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float()
                for a in (img, tgt)]

    def train(self, mode: bool = True):
        super().train(mode)
        self.painter.eval()  # frozen: no drop path, fixed statistics
        return self

    def with_prompt(self, canvas: Tensor, prompt: Tensor) -> Tensor:
        """Replace the top half of ``(B, 3, H, W)`` canvases by ``prompt`` ``(1, 3, H/2, W)``."""
        half = canvas.shape[2] // 2
        return torch.cat([prompt.expand(canvas.shape[0], -1, -1, -1), canvas[:, :, half:]], 2)

    def prompted(self, inputs: Dict[str, Tensor]) -> Sequence[Tensor]:
        """The image and target canvases ``(B, 3, H, W)`` with the learned prompt on top."""
        return (self.with_prompt(inputs['imgs'], self.prompt_img),
                self.with_prompt(inputs['tgts'], self.prompt_tgt))

    # ------------------------------------------------------------------ BaseTaskModel API
    def loss(self, inputs: Dict[str, Tensor], data_samples: Optional[SampleList] = None
             ) -> Dict[str, Tensor]:
        """Painter's loss over the whole query (bottom) half of the prompted canvases."""
        imgs, tgts = self.prompted(inputs)
        mask = self.painter.query_mask(imgs.shape[0])
        pred = self.painter.forward_canvas(imgs, tgts, mask)
        loss = self.painter.loss_module(pred, tgts, mask, inputs['valid'],
                                        self.painter.patch_size)
        return dict(loss=loss)

    def predict(self, inputs: Dict[str, Tensor], data_samples: SampleList) -> SampleList:
        """:meth:`Painter.predict` with the learned prompt."""
        imgs, tgts = self.prompted(inputs)
        return self.painter.predict(dict(imgs=imgs, tgts=tgts), data_samples)

    def _forward(self, inputs: Dict[str, Tensor], data_samples: Optional[SampleList] = None
                 ) -> Tensor:
        """:meth:`Painter.predict_canvas` with the learned prompt."""
        return self.painter.predict_canvas(*self.prompted(inputs))

    def export_prompt(self) -> Sequence[np.ndarray]:
        """The learned prompt as ``uint8 (H/2, W, 3)`` RGB images (image, target)."""
        out = []
        for t in (self.prompt_img, self.prompt_tgt):
            img = self.painter.denormalize(t.detach()).round().byte()[0]
            out.append(img.permute(1, 2, 0).cpu().numpy())
        return out
