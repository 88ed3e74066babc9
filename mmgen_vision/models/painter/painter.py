# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter: every dense task as in-context masked image modelling on stitched canvases."""
import hashlib
import random
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import BaseDataElement, PixelData
from torch import Tensor

from mmgen_vision.models.common.base_model import BaseTaskModel
from mmgen_vision.registry import MODELS, TASK_UTILS
from ..common.patchify import patchify
from .painter_head import IMAGENET_MEAN, IMAGENET_STD

SampleList = List[BaseDataElement]


@MODELS.register_module()
class PainterDataPreprocessor(BaseDataPreprocessor):
    """Stack and normalise the image canvases and the target canvases.

    Inputs are ``uint8`` RGB canvases ``(3, H, W)``; each data sample carries ``target``
    (``uint8 (3, H, W)``, the encoded task outputs) and optionally ``valid`` (``float
    (3, H, W)`` loss weights, default 1). Both canvases are normalised with the ImageNet
    mean / std. The output ``inputs`` is a dict ``imgs`` / ``tgts`` / ``valid``.

    Multi-prompt evaluation samples (:class:`PainterInContextDataset` with ``prompts``) carry
    ``P`` canvases each, ``(P, 3, H, W)``; the batch is then ``(B, P, 3, H, W)``.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1) * 255., False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1) * 255., False)

    def normalize(self, canvas: Tensor) -> Tensor:
        """``(B, 3, H, W)`` 0-255 -> normalised float."""
        return (canvas.float() - self.mean) / self.std  # also (B, P, 3, H, W)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        samples = data.get('data_samples')
        imgs = data['inputs']
        imgs = torch.stack(list(imgs)) if isinstance(imgs, (list, tuple)) else imgs
        if samples is None or any('target' not in s for s in samples):
            raise KeyError('every Painter data sample needs a `target` canvas (pack the data with '
                           'PainterPairDataset / PainterInContextDataset)')
        tgts = torch.stack([s.target for s in samples])
        if tgts.shape != imgs.shape:
            raise ValueError(f'target canvases {tuple(tgts.shape)} do not match the image '
                             f'canvases {tuple(imgs.shape)}')
        valid = torch.stack([
            s.valid.float() if 'valid' in s else torch.ones(tgts.shape[1:], device=tgts.device)
            for s in samples
        ])
        inputs = dict(imgs=self.normalize(imgs), tgts=self.normalize(tgts), valid=valid)
        return dict(inputs=inputs, data_samples=samples)


@MODELS.register_module()
class Painter(BaseTaskModel):
    """Painter (Wang et al., CVPR 2023).

    A :class:`~mmgen_vision.models.common.base_model.BaseTaskModel`: its inputs are stitched
    canvases and its predictions are decoded by per-task codecs, which no stock base models.

    Args:
        backbone (dict): :class:`PainterViT` config.
        head (dict): :class:`PainterHead` config.
        loss (dict): :class:`PainterLoss` config.
        mask_generator (dict): :class:`PainterMaskGenerator` config (``grid`` is filled in).
        codecs (dict[str, dict]): Task name -> codec config (``TASK_UTILS``); used to decode
            predictions of samples whose metainfo ``task`` names it.
        mergers (dict[str, dict], optional): Task name -> a ``TASK_UTILS`` callable run on a
            multi-prompt sample of that task once each prompt's prediction is decoded, e.g.
            ``coco_panoptic=dict(type='PanopticMerger', ...)`` (semantic + instance prompts ->
            ``pred_panoptic_seg``).
        test_cfg (dict): ``use_cache`` (reuse the prompt half's features across queries; needs
            ``backbone.prompt_isolation``; up to ``cache_size`` (4) prompts are kept, so the
            prompts of a multi-prompt dataset are all cached), ``task`` (default task of samples
            without one), ``flip_test`` (also paint the horizontally mirrored query and decode
            both with the codec's ``decode_flip_to_sample``; applies to the tasks whose codec
            ``supports_flip``: keypoints, depth and restoration).
        data_preprocessor (dict): :class:`PainterDataPreprocessor` config.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 loss: dict = dict(type='PainterLoss', beta=0.01),
                 mask_generator: dict = dict(ratio=0.5, min_block=16, half_prob=0.1),
                 codecs: Optional[Dict[str, dict]] = None,
                 mergers: Optional[Dict[str, dict]] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: dict = dict(type='PainterDataPreprocessor'),
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.loss_module = MODELS.build(loss)
        mask_cfg = dict(mask_generator)
        mask_cfg.pop('type', None)
        mask_cfg.setdefault('grid', self.backbone.grid)
        self.mask_generator = TASK_UTILS.build(dict(type='PainterMaskGenerator', **mask_cfg))
        self.codecs = {task: TASK_UTILS.build(cfg) for task, cfg in (codecs or {}).items()}
        self.mergers = {task: TASK_UTILS.build(cfg) for task, cfg in (mergers or {}).items()}
        self.test_cfg = dict(test_cfg or {})
        if self.test_cfg.get('use_cache') and not self.backbone.prompt_isolation:
            raise ValueError('test_cfg.use_cache=True needs backbone.prompt_isolation=True: '
                             'otherwise the prompt half attends to the query and its features '
                             'cannot be reused')
        self._prompt_cache: 'OrderedDict[str, dict]' = OrderedDict()
        self.register_buffer('pixel_mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer('pixel_std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    @property
    def patch_size(self) -> int:
        return self.backbone.patch_size

    # ------------------------------------------------------------------ core computations
    def forward_canvas(self, imgs: Tensor, tgts: Tensor, mask: Tensor) -> Tensor:
        """Predicted target canvas ``(B, 3, H, W)`` (normalised space) for a patch mask."""
        return self.head(self.backbone(imgs, tgts, mask.flatten(1).bool()))

    def forward_train(self, imgs: Tensor, tgts: Tensor, mask: Tensor,
                      valid: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """The release's ``forward``: ``(loss, pred_patches (B, L, p*p*3), mask (B, L))``."""
        mask = mask.flatten(1).bool()
        pred = self.forward_canvas(imgs, tgts, mask)
        loss = self.loss_module(pred, tgts, mask, valid, self.patch_size)
        return loss, patchify(pred, self.patch_size), mask

    def query_mask(self, batch_size: int) -> Tensor:
        """``(B, L)`` mask of the whole bottom (query) half."""
        return self.mask_generator.half_mask().flatten().unsqueeze(0).expand(
            batch_size, -1).to(self.pixel_mean.device)

    def _prompt_key(self, imgs: Tensor, tgts: Tensor) -> str:
        half = imgs.shape[2] // 2
        digest = hashlib.sha1()
        for t in (imgs[:1, :, :half], tgts[:1, :, :half]):
            digest.update(t.detach().float().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def predict_canvas(self, imgs: Tensor, tgts: Tensor, use_cache: Optional[bool] = None
                       ) -> Tensor:
        """In-context forward: the bottom half of ``tgts`` is masked and predicted.

        With the cache (all samples must share the prompt half), the prompt half is encoded
        once per distinct prompt and only the query half runs through the blocks; the features
        of the last ``test_cfg.cache_size`` (4) prompts are kept.

        Returns:
            Tensor: Predicted bottom half ``(B, 3, H/2, W)`` in normalised space.
        """
        use_cache = self.test_cfg.get('use_cache', False) if use_cache is None else use_cache
        half = imgs.shape[2] // 2
        if not use_cache:
            pred = self.forward_canvas(imgs, tgts, self.query_mask(imgs.shape[0]))
            return pred[:, :, half:]
        if self.training:
            raise RuntimeError('the prompt cache is for inference (call model.eval())')
        same = (imgs[:, :, :half] == imgs[:1, :, :half]).all() and (
            tgts[:, :, :half] == tgts[:1, :, :half]).all()
        if not same:
            raise ValueError('the prompt cache needs one prompt per batch; got different '
                             'prompt halves')
        key = self._prompt_key(imgs, tgts)
        if key in self._prompt_cache:
            self._prompt_cache.move_to_end(key)
        else:
            self._prompt_cache[key] = self.backbone.encode_prompt(imgs[:1, :, :half],
                                                                  tgts[:1, :, :half])
            while len(self._prompt_cache) > max(1, int(self.test_cfg.get('cache_size', 4))):
                self._prompt_cache.popitem(last=False)
        feats = self.backbone.forward_query(imgs[:, :, half:], self._prompt_cache[key])
        return self.head(feats)[:, :, half:]

    def denormalize(self, x: Tensor) -> Tensor:
        """Normalised ``(B, 3, h, w)`` -> 0-255 floats (clamped)."""
        return ((x * self.pixel_std + self.pixel_mean) * 255.).clamp(0, 255)

    # ------------------------------------------------------------------ BaseTaskModel API
    def _forward(self, inputs: Dict[str, Tensor], data_samples: Optional[SampleList] = None
                 ) -> Tensor:
        """Predicted bottom halves ``(B, 3, H/2, W)``, normalised (:meth:`predict_canvas`)."""
        return self.predict_canvas(inputs['imgs'], inputs['tgts'])

    def loss(self, inputs: Dict[str, Tensor], data_samples: SampleList) -> Dict[str, Tensor]:
        """Masked image modelling loss; a sample's ``mask`` field overrides the generator."""
        imgs, tgts, valid = inputs['imgs'], inputs['tgts'], inputs['valid']
        masks = []
        generated = self.mask_generator(len(data_samples), random)
        for i, sample in enumerate(data_samples):
            masks.append(sample.mask.flatten().bool() if 'mask' in sample else generated[i])
        mask = torch.stack(masks).to(imgs.device)
        pred = self.forward_canvas(imgs, tgts, mask)
        return dict(loss=self.loss_module(pred, tgts, mask, valid, self.patch_size))

    def predict(self, inputs: Dict[str, Tensor], data_samples: SampleList) -> SampleList:
        """In-context prediction; each sample is decoded by the codec of its ``task``.

        Every sample gets ``pred_painting`` (``PixelData``, the predicted query target in 0-255
        at the sample's ``ori_shape``) and the codec's standard prediction fields.

        * Multi-prompt samples (canvases ``(B, P, 3, H, W)``, metainfo ``prompt_tasks`` naming
          the task of each of the ``P`` prompts): every prompt is painted, decoded by its own
          codec (into the same data sample; instance codecs after the semantic one, whose
          labels they vote with) and the merger of the sample's ``task`` (``self.mergers``)
          combines them, e.g. into ``pred_panoptic_seg``. ``pred_painting`` has one field per
          prompt task.
        * ``test_cfg.flip_test``: samples whose codec ``supports_flip`` are also painted with
          the query half mirrored, and decoded by ``codec.decode_flip_to_sample``.
        """
        imgs, tgts = inputs['imgs'], inputs['tgts']
        if imgs.dim() == 5:
            return self.decode_multi_prompt(self.paint_multi_prompt(imgs, tgts), data_samples)
        flip = [self.test_cfg.get('flip_test', False) and getattr(
            self._codec_of(s), 'supports_flip', False) for s in data_samples]
        if not any(flip):
            return self.decode_samples(self.denormalize(self.predict_canvas(imgs, tgts)),
                                       data_samples)
        idx = torch.tensor([i for i, f in enumerate(flip) if f], device=imgs.device)
        half = imgs.shape[2] // 2
        flipped = imgs[idx].clone()
        flipped[:, :, half:] = flipped[:, :, half:].flip(-1)  # mirror the query, not the prompt
        # one forward for both (they share the prompt, so the cache still applies)
        pred = self.denormalize(self.predict_canvas(torch.cat([imgs, flipped]),
                                                    torch.cat([tgts, tgts[idx]])))
        pred_flipped: List[Optional[Tensor]] = [None] * len(data_samples)
        for k, i in enumerate(idx.tolist()):
            pred_flipped[i] = pred[len(data_samples) + k]
        return self.decode_samples(pred[:len(data_samples)], data_samples, pred_flipped)

    def paint_multi_prompt(self, imgs: Tensor, tgts: Tensor) -> Tensor:
        """Canvases ``(B, P, 3, H, W)`` (prompt ``p`` is the same for the whole batch) ->
        predicted query targets ``(B, P, 3, H/2, W)`` in 0-255.

        With the prompt cache each prompt slot is one cached forward pass; without, all
        ``B * P`` canvases run in one batch.
        """
        b, p = imgs.shape[:2]
        use_cache = self.test_cfg.get('use_cache', False)
        if use_cache:
            pred = torch.stack([self.predict_canvas(imgs[:, k], tgts[:, k]) for k in range(p)],
                               dim=1)
        else:
            pred = self.predict_canvas(imgs.flatten(0, 1), tgts.flatten(0, 1)).unflatten(
                0, (b, p))
        return self.denormalize(pred.flatten(0, 1)).unflatten(0, (b, p))

    def _codec_of(self, sample, task: Optional[str] = None):
        task = task or sample.metainfo.get('task', self.test_cfg.get('task'))
        codec = self.codecs.get(task)
        if codec is None and task is not None and self.codecs:
            raise KeyError(f'no codec for task {task!r}; model.codecs has {sorted(self.codecs)}')
        return codec

    def _to_output_size(self, painting: Tensor, sample, codec) -> Tensor:
        """``(3, h, w)`` -> ``(3, H, W)`` at the size the codec decodes (``ori_shape``, or the
        top-down crop for keypoints)."""
        default = tuple(painting.shape[1:])
        size = codec.output_shape(sample.metainfo, default) if codec is not None else tuple(
            sample.metainfo.get('ori_shape', default))[:2]
        if tuple(painting.shape[1:]) == tuple(size):
            return painting
        mode = getattr(codec, 'resize_mode', 'bilinear')
        return F.interpolate(painting[None], size=size, mode=mode,
                             **({} if mode == 'nearest' else dict(align_corners=False)))[0]

    def decode_samples(self, pred: Tensor, data_samples: SampleList,
                       pred_flipped: Optional[Sequence[Optional[Tensor]]] = None) -> SampleList:
        """Resize each predicted query target ``(B, 3, h, w)`` (0-255) to its sample's
        ``ori_shape`` and decode it with the codec of the sample's task.

        ``pred_flipped`` (optional, one ``(3, h, w)`` or None per sample): the prediction of the
        mirrored query; such samples are decoded with ``codec.decode_flip_to_sample``.
        """
        for i, sample in enumerate(data_samples):
            codec = self._codec_of(sample)
            painting = self._to_output_size(pred[i], sample, codec)
            sample.pred_painting = PixelData(data=painting)
            if codec is None:
                continue
            if pred_flipped is not None and pred_flipped[i] is not None:
                codec.decode_flip_to_sample(
                    painting, self._to_output_size(pred_flipped[i], sample, codec), sample)
            else:
                codec.decode_to_sample(painting, sample)
        return data_samples

    def decode_multi_prompt(self, pred: Tensor, data_samples: SampleList) -> SampleList:
        """Decode ``(B, P, 3, h, w)`` (0-255) multi-prompt predictions, then merge them."""
        for i, sample in enumerate(data_samples):
            tasks = sample.metainfo.get('prompt_tasks')
            if tasks is None or len(tasks) != pred.shape[1]:
                raise KeyError(f'a sample with {pred.shape[1]} prompt canvases needs '
                               '`prompt_tasks` (the task of each) in its metainfo; got '
                               f'{tasks!r}')
            codecs = [self._codec_of(sample, t) for t in tasks]
            if any(c is None for c in codecs):
                raise KeyError(f'multi-prompt tasks {tuple(tasks)} need codecs; model.codecs '
                               f'has {sorted(self.codecs)}')
            paintings = {}
            # codecs that read another prompt's output (instances vote with pred_sem_seg)
            # decode after the others
            for k in sorted(range(len(tasks)), key=lambda k: codecs[k].decode_priority):
                paintings[tasks[k]] = self._to_output_size(pred[i, k], sample, codecs[k])
                codecs[k].decode_to_sample(paintings[tasks[k]], sample)
            sample.pred_painting = PixelData(**{t: paintings[t] for t in tasks})
            merger = self.mergers.get(sample.metainfo.get('task'))
            if merger is not None:
                merger(sample)
        return data_samples

    def reset_prompt_cache(self) -> None:
        """Forget the cached prompt features."""
        self._prompt_cache = OrderedDict()

    def train(self, mode: bool = True):
        self.reset_prompt_cache()
        return super().train(mode)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        self.reset_prompt_cache()
        return super().load_state_dict(state_dict, strict=strict, assign=assign)
