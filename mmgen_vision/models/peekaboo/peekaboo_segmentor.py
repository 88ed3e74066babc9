# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Peekaboo: segmentation by inference-time optimisation of alpha masks against a frozen
text-to-image diffusion model (Burgert et al., 2022)."""
import copy
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from mmgen_vision.models.common.batching import BatchInvariantMixin
from mmgen_vision.registry import LOOPS, MODELS
from mmgen_vision.utils.deprecation import canonical_task
from .losses import gravity_loss, intersection_loss

MODES = ('semantic', 'referring')


class AlphaProblem(NamedTuple):
    """The state of one batch's optimisation (see :meth:`PeekabooSegmentor.init_problem`).

    Attributes:
        alpha (nn.Module): The alpha parameterisation, ``() -> (B, k, h, w)``.
        images (Tensor): ``(B, 3, h, w)`` in ``[0, 1]``, detached.
        text_emb (Tensor): ``(B * n_b * k, L, D)``, one per composite.
        generators (list[torch.Generator]): One per image, all seeded with ``seed``.
        use_intersection (bool): Whether the intersection loss is on.
    """
    alpha: torch.nn.Module
    images: Tensor
    text_emb: Tensor
    generators: List[torch.Generator]
    use_intersection: bool


@MODELS.register_module()
class PeekabooSegmentor(BatchInvariantMixin, BaseSegmentor):
    """Training-free segmentor: each :meth:`predict` call optimises fresh alpha masks.

    For ``B`` images and ``k`` captions the alphas ``y (B, k, h, w)`` composite every image over
    ``n_b`` random uniform colours, ``x_hat = y x + (1 - y) b``; all ``B * n_b * k`` composites
    are resized to ``image_size``, encoded and scored in one guide call (dream loss, score
    distillation), or in chunks of at most ``max_guide_batch`` composites. Total loss:
    ``dream + gravity_weight * sum(y)`` plus, in semantic mode,
    ``intersection_weight * overlap(y)``. Nothing is trained; :meth:`loss` raises.

    The model defines the problem (:meth:`init_problem`, :meth:`problem_step`,
    :meth:`final_alphas`); the iterations, the optimiser, the progress bar and the evolution
    PNGs belong to the test-time loop of the engine
    (:class:`~mmgen_vision.engine.TestTimeOptimizationLoop`, built from ``LOOPS`` with
    ``num_iters``, ``optimizer``, ``show_progress`` and ``evolution_*``), which
    :meth:`predict` runs.

    Args:
        guide (dict): Config of the diffusion guide, e.g. ``StableDiffusionGuide``.
        alpha (dict): Config of the alpha parameterisation (``FourierAlpha``, ``RasterAlpha``;
            ``bilateral=dict(...)`` for the image-guided smoothing). ``num_masks``, ``size``
            and ``num_images`` are filled in per batch.
        data_preprocessor (dict, optional): Should deliver RGB images in ``[0, 1]``.
        mode (str): ``'semantic'`` (all class names, label map) or ``'referring'`` (the
            expression in ``metainfo['text']``, binary map). Defaults to ``'semantic'``.
        mask_size (int): Alpha / compositing resolution. Defaults to 256.
        image_size (int): Resolution of the composites given to the guide. Defaults to 512.
        num_iters (int): Optimisation steps per batch. Defaults to 300.
        num_backgrounds (int): ``n_b`` random backgrounds per step. Defaults to 1.
        optimizer (dict): Optimizer config (``params`` filled in). Defaults to
            ``dict(type='SGD', lr=1e-5)``.
        gravity_weight (float): Defaults to 0.05.
        intersection_weight (float): Semantic mode only. Defaults to 0.0.
        class_names (Sequence[str], optional): Semantic mode: all label names in label order.
        background (str, optional): Semantic mode: the class (a name among ``class_names``)
            that is background: not prompted, the label of the pixels where no mask reaches
            ``background_threshold``. None: no background, plain argmax over the masks of all
            classes. Defaults to ``'background'``: the class of that name if ``class_names``
            has one, else none, so that no class of yours becomes background unasked.
            :attr:`background_rule` says which rule is used (it is logged when built).
        background_index (int, optional): The same by label instead of name (overrides
            ``background``). Defaults to None.
        background_threshold (float): Confidence threshold (semantic background rule and the
            referring binary map). Defaults to 0.5.
        prompt_template (str): Applied to class names / expressions. Defaults to ``'{}'``.
        rename (dict, optional): Semantic mode: class name -> the text put in its prompt, for
            names the guide never saw (e.g. ``dict(orb='red circle')``; unlisted classes are
            prompted by their own name). Every key must be one of ``class_names``. Defaults
            to None (every class prompted by its name).
        show_progress (bool): Progress bar per batch. Defaults to True.
        evolution_dir (str, optional): Save the masks every ``evolution_interval`` steps as
            PNGs under ``evolution_dir/<image name>/``. Defaults to None.
        evolution_interval (int): Defaults to 50.
        loop (dict, optional): Overrides of the test-time loop config (e.g. another ``type``).
            ``num_iters``, ``optimizer``, ``show_progress`` and ``evolution_*`` above are its
            arguments. Defaults to None.
        seed (int): Seed of the alpha initialisation, backgrounds, timesteps and noise
            (every batch restarts from it, every image of a batch draws from its own generator
            seeded with it: an image gets the same masks alone or in any batch). Defaults
            to 0.
        max_guide_batch (int, optional): Memory knob: VAE-encode and score at most this many
            composites per guide call, back-propagating each chunk before the next, so that
            only one chunk's encoder activations are alive at a time (e.g. SD-scale semantic
            mode with 20 prompts). The random draws of a step are made up front, so the result
            equals the one-call result up to float rounding. None: all ``B * n_b * k``
            composites in one call (fastest). Defaults to None.
        init_cfg (dict, optional): Unused (nothing is trained).
    """
    #: Nothing is learned: ``tools/test.py CONFIG none`` evaluates it without a checkpoint.
    training_free = True

    #: ``compile=True`` compiles one optimisation step, not the loop that builds an optimiser
    #: and fresh alphas per batch (see :func:`mmgen_vision.utils.compile_model_steps`).
    compile_instead = dict(val_step=('problem_step', ), test_step=('problem_step', ))

    def __init__(self,
                 guide: dict,
                 alpha: dict,
                 data_preprocessor: Optional[dict] = None,
                 mode: str = 'semantic',
                 mask_size: int = 256,
                 image_size: int = 512,
                 num_iters: int = 300,
                 num_backgrounds: int = 1,
                 optimizer: Optional[dict] = None,
                 gravity_weight: float = 0.05,
                 intersection_weight: float = 0.0,
                 class_names: Optional[Sequence[str]] = None,
                 background: Optional[str] = 'background',
                 background_index: Optional[int] = None,
                 background_threshold: float = 0.5,
                 prompt_template: str = '{}',
                 rename: Optional[Dict[str, str]] = None,
                 show_progress: bool = True,
                 evolution_dir: Optional[str] = None,
                 evolution_interval: int = 50,
                 seed: int = 0,
                 max_guide_batch: Optional[int] = None,
                 loop: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        mode = canonical_task(mode, MODES, 'Peekaboo mode')
        if mode == 'semantic':
            if not class_names:
                raise ValueError('semantic mode needs class_names (all labels, in order)')
            if background_index is not None and not 0 <= background_index < len(class_names):
                raise ValueError(f'background_index {background_index} out of range')
            if background_index is None and background is not None:
                if background in class_names:
                    background_index = list(class_names).index(background)
                elif background != 'background':
                    raise ValueError(f'background={background!r} is not one of the class names '
                                     f'{list(class_names)}; name one of them, or set '
                                     'background=None (no background class)')
        rename = dict(rename or {})
        if rename and mode != 'semantic':
            raise ValueError('rename maps class names to prompts (semantic mode); in referring '
                             'mode the prompt is the expression itself')
        unknown = [name for name in rename if name not in (class_names or ())]
        if unknown:
            raise ValueError(f'rename keys {unknown} are not class names {list(class_names)}')
        if max_guide_batch is not None and max_guide_batch < 1:
            raise ValueError(f'max_guide_batch must be None or >= 1, got {max_guide_batch}')
        self.guide = MODELS.build(guide) if isinstance(guide, dict) else guide
        self.alpha_cfg = copy.deepcopy(alpha)
        self.mode = mode
        self.mask_size = mask_size
        self.image_size = image_size
        self.num_backgrounds = num_backgrounds
        self.gravity_weight = gravity_weight
        self.intersection_weight = intersection_weight
        self.class_names = list(class_names) if class_names is not None else None
        self.background_index = background_index
        self.background_threshold = background_threshold
        self.prompt_template = prompt_template
        self.rename = rename
        if mode == 'semantic':
            print_log(f'PeekabooSegmentor: {self.background_rule}', logger='current')
            if rename:
                print_log(f'PeekabooSegmentor: prompts {self.prompt_class_names}',
                          logger='current')
        # the iterations around the problem: the engine's test-time loop (through the registry,
        # the models layer does not import the engine)
        self.loop = LOOPS.build(dict(
            dict(type='TestTimeOptimizationLoop', num_iters=num_iters,
                 optimizer=copy.deepcopy(optimizer or dict(type='SGD', lr=1e-5)),
                 show_progress=show_progress, evolution_dir=evolution_dir,
                 evolution_interval=evolution_interval), **(loop or {})))
        self.seed = seed
        self.max_guide_batch = max_guide_batch
        self.align_corners = False

    # ------------------------------------------------------------ BaseSegmentor API
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Peekaboo has no feature extractor: the images themselves, ``[(B, 3, H, W)]``."""
        return [inputs]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Optimised alphas ``(B, k, mask_size, mask_size)`` of the batch."""
        prompts = self._prompts(batch_img_metas, inputs.shape[0])
        images = self._valid_images(inputs, batch_img_metas)
        return self.optimize(images, prompts, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> dict:
        """Peekaboo is not trained."""
        raise RuntimeError(
            'PeekabooSegmentor has no training: segmentation is an inference-time '
            'optimisation of alpha masks against a frozen diffusion model. Run tools/test.py '
            '(predict mode) instead of training.')

    def _forward(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                 ) -> Tensor:
        """Optimised alphas ``(B, k, mask_size, mask_size)``."""
        return self.encode_decode(inputs, self._metas(inputs, data_samples))

    def predict(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                ) -> List[SegDataSample]:
        """Optimise the masks of the batch and turn them into label maps.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` RGB in ``[0, 1]`` (possibly padded).
            data_samples (list[SegDataSample], optional): With ``img_shape``/``ori_shape``
                (and ``text`` in referring mode).

        Returns:
            list[SegDataSample]: ``seg_logits`` the ``k`` alphas at the original size and
            ``pred_sem_seg`` the label map ``(1, H0, W0)``.
        """
        metas = self._metas(inputs, data_samples)
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=m) for m in metas]
        alphas = self.encode_decode(inputs, metas)
        return self.alphas_to_results(alphas, data_samples)

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _metas(inputs: Tensor, data_samples: Optional[List[SegDataSample]]) -> List[dict]:
        if data_samples is not None:
            return [dict(ds.metainfo) for ds in data_samples]
        shape = tuple(inputs.shape[-2:])
        return [dict(img_shape=shape, ori_shape=shape) for _ in range(inputs.shape[0])]

    def _prompts(self, metas: List[dict], batch_size: int) -> List[List[str]]:
        """``B`` lists of ``k`` prompts."""
        if self.mode == 'referring':
            prompts = []
            for meta in metas:
                if 'text' not in meta:
                    raise KeyError('referring mode reads the expression from '
                                   "data_sample.metainfo['text']")
                text = meta['text']
                if isinstance(text, (list, tuple)):
                    text = text[0]
                prompts.append([self.prompt_template.format(text)])
            return prompts
        return [self.prompt_class_names for _ in range(batch_size)]

    @property
    def prompt_class_names(self) -> List[str]:
        """Semantic mode: the prompts of the foreground classes in label order (background
        dropped, ``rename`` and ``prompt_template`` applied)."""
        return [self.prompt_template.format(self.rename.get(n, n))
                for i, n in enumerate(self.class_names) if i != self.background_index]

    @property
    def background_rule(self) -> str:
        """The semantic background rule in words (for logs, demos and Inferencers)."""
        if self.mode != 'semantic':
            return f'referring: foreground where the mask exceeds {self.background_threshold}'
        if self.background_index is None:
            return 'no background class: every class is prompted (plain argmax)'
        name = self.class_names[self.background_index]
        return (f'background = class {self.background_index} {name!r}: not prompted, predicted '
                f'where no mask exceeds background_threshold={self.background_threshold}')

    def _foreground_labels(self) -> List[int]:
        return [i for i in range(len(self.class_names)) if i != self.background_index]

    @staticmethod
    def _valid_region(meta: dict, height: int, width: int):
        if 'img_padding_size' in meta or 'padding_size' in meta:
            left, right, top, bottom = meta.get('img_padding_size', meta.get('padding_size'))
            return top, height - bottom, left, width - right
        h, w = meta.get('img_shape', (height, width))[:2]
        return 0, min(h, height), 0, min(w, width)

    def _valid_images(self, inputs: Tensor, metas: List[dict]) -> Tensor:
        """Unpadded images resized to ``(B, 3, mask_size, mask_size)``."""
        out = []
        height, width = inputs.shape[-2:]
        for img, meta in zip(inputs, metas):
            y0, y1, x0, x1 = self._valid_region(meta, height, width)
            img = img[None, :, y0:y1, x0:x1].float()
            out.append(F.interpolate(img, size=(self.mask_size, self.mask_size),
                                     mode='bilinear', align_corners=False))
        return torch.cat(out).clamp(0, 1)

    def _build_alpha(self, num_images: int, num_masks: int, device: torch.device):
        """Alphas of ``num_images`` images, each initialised as the alpha of that image alone
        (built from :attr:`seed` for one image, copied to every image), so that an image's
        start does not depend on its batch."""
        cfg = dict(self.alpha_cfg, num_masks=num_masks, size=self.mask_size)
        # a private generator state: same seed -> same initialisation
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            alpha = MODELS.build(dict(cfg, num_images=1))
            if num_images > 1:
                alpha = MODELS.build(dict(cfg, num_images=num_images)).copy_to_every_image(
                    alpha)
        return alpha.to(device)

    # the settings of the loop, readable and settable on the model as before
    num_iters = property(lambda self: self.loop.num_iters,
                         lambda self, value: setattr(self.loop, 'num_iters', value),
                         doc='Optimisation steps per batch (the loop\'s).')
    show_progress = property(lambda self: self.loop.show_progress,
                             lambda self, value: setattr(self.loop, 'show_progress', value))
    evolution_dir = property(lambda self: self.loop.evolution_dir,
                             lambda self, value: setattr(self.loop, 'evolution_dir', value))

    def optimize(self, images: Tensor, prompts: List[List[str]],
                 metas: Optional[List[dict]] = None) -> Tensor:
        """Run the test-time loop on a batch.

        Args:
            images (Tensor): ``(B, 3, mask_size, mask_size)`` in ``[0, 1]``.
            prompts (list[list[str]]): ``B`` lists of ``k`` prompts.
            metas (list[dict], optional): Image metas (names for the evolution images).

        Returns:
            Tensor: Final alphas ``(B, k, mask_size, mask_size)`` in ``[0, 1]`` (detached).
        """
        return self.loop.run(self, images, prompts, metas)

    def init_problem(self, images: Tensor, prompts: List[List[str]]) -> AlphaProblem:
        """Fresh alphas for the batch (guided by ``images``), one generator per image and one
        text embedding per composite, in the ``(B, n_b, k)`` order of the composites.

        Raises:
            ValueError: The images have different numbers of prompts.
        """
        b = images.shape[0]
        k = len(prompts[0])
        if any(len(p) != k for p in prompts):
            raise ValueError('all images of a batch need the same number of prompts')
        device = images.device
        images = images.detach()
        alpha = self._build_alpha(b, k, device)
        alpha.set_guide(images)
        alpha.train()  # BatchNorm of the MLP uses the statistics of the pixels
        # one generator per image, all seeded alike: an image's backgrounds, timesteps and
        # noise are those it gets when optimised alone, wherever it sits in the batch
        generators = [torch.Generator(device=device).manual_seed(self.seed) for _ in range(b)]
        n_b = self.num_backgrounds
        flat_prompts = [p for img_prompts in prompts for p in img_prompts]  # (B * k)
        text_emb = self.guide.encode_text(flat_prompts)  # (B*k, L, D), computed once
        emb_shape = text_emb.shape[1:]
        text_emb = text_emb.view(b, 1, k, *emb_shape).expand(b, n_b, k, *emb_shape)
        text_emb = text_emb.reshape(b * n_b * k, *emb_shape)
        use_intersection = self.mode == 'semantic' and self.intersection_weight > 0 and k > 1
        return AlphaProblem(alpha, images, text_emb, generators, use_intersection)

    def problem_step(self, problem: AlphaProblem) -> Tuple[Tensor, Tensor]:
        """One step's losses, back-propagated into the alpha's parameters.

        Composites ``(B, n_b, k, 3, h, w)`` of every image over ``n_b`` random colours, resized
        to ``image_size``, scored by the guide (dream loss); plus gravity (and intersection).

        Returns:
            tuple[Tensor, Tensor]: The alphas of this step ``(B, k, h, w)`` (detached) and the
            total loss (detached scalar).
        """
        images, generators = problem.images, problem.generators
        device = images.device
        n_b = self.num_backgrounds
        alphas = problem.alpha()  # (B, k, h, w)
        colours = torch.cat([
            torch.rand((1, n_b, 1, 3, 1, 1), generator=g, device=device) for g in generators
        ])
        comp = (alphas[:, None, :, None] * images[:, None, None] +
                (1 - alphas[:, None, :, None]) * colours)  # (B, n_b, k, 3, h, w)
        comp = comp.flatten(0, 2)
        if self.image_size != self.mask_size:
            comp = F.interpolate(comp, size=(self.image_size, self.image_size),
                                 mode='bilinear', align_corners=False)
        dream, comp_grad = self._dream_backward(comp, problem.text_emb, generators)
        reg = gravity_loss(alphas, self.gravity_weight)
        if problem.use_intersection:
            reg = reg + intersection_loss(alphas, self.intersection_weight)
        torch.autograd.backward((comp, reg), (comp_grad, None))
        return alphas.detach(), dream + reg.detach()

    @torch.no_grad()
    def final_alphas(self, problem: AlphaProblem) -> Tensor:
        """The alphas after the last step, ``(B, k, h, w)`` float in ``[0, 1]``."""
        return problem.alpha().detach().float()

    def _dream_backward(self, comp: Tensor, text_emb: Tensor,
                        generators: List[torch.Generator]) -> Tuple[Tensor, Tensor]:
        """Dream loss of all composites and its gradient w.r.t. them, chunk by chunk.

        The composites are cut from the mask graph (a detached leaf); each chunk of at most
        :attr:`max_guide_batch` composites is encoded, scored and back-propagated before the
        next, so only one chunk's encoder graph is alive at a time. All random draws of the
        step come first (:meth:`ScoreDistillationGuide.draw_noise`), image by image from the
        image's own generator, which makes the result independent of the chunking and of the
        other images of the batch.

        Args:
            comp (Tensor): ``(N, 3, S, S)`` composites with a graph to the alphas.
            text_emb (Tensor): ``(N, L, D)`` one embedding per composite.
            generators (list[torch.Generator]): One per image, the source of the random
                draws of its ``N / B`` composites (contiguous in ``comp``).

        Returns:
            tuple[Tensor, Tensor]: The detached scalar dream loss and ``d loss / d comp``.
        """
        n = comp.shape[0]
        per_image = [self.guide.draw_noise(n // len(generators), comp.shape[-2:], g)
                     for g in generators]
        draws = {
            key: None if per_image[0][key] is None else torch.cat([d[key] for d in per_image])
            for key in per_image[0]
        }
        chunk = n if self.max_guide_batch is None else self.max_guide_batch
        leaf = comp.detach().requires_grad_()
        total = comp.new_zeros(())
        for start in range(0, n, chunk):
            idx = slice(start, start + chunk)
            posterior = draws['posterior_noise']
            # every draw is made: the guide gets no generator to draw from
            latents = self.guide.encode_images(
                leaf[idx], posterior_noise=posterior[idx] if posterior is not None else None)
            loss = self.guide.dream_loss(latents, text_emb[idx],
                                         timesteps=draws['timesteps'][idx],
                                         noise=draws['noise'][idx])
            loss.backward()
            total = total + loss.detach().float()
        return total, leaf.grad

    def alphas_to_results(self, alphas: Tensor,
                          data_samples: List[SegDataSample]) -> List[SegDataSample]:
        """Resize the alphas to each original image and derive the label maps.

        Args:
            alphas (Tensor): ``(B, k, h, w)`` in ``[0, 1]`` over the unpadded images.
            data_samples (list[SegDataSample]): Filled in place and returned.
        """
        for i, ds in enumerate(data_samples):
            meta = ds.metainfo
            a = alphas[i:i + 1]
            flip = meta.get('flip', False)
            if flip:
                a = a.flip(dims=(3, ) if meta.get('flip_direction') == 'horizontal' else (2, ))
            ori_shape = tuple(meta.get('ori_shape', meta.get('img_shape', a.shape[-2:]))[:2])
            a = F.interpolate(a, size=ori_shape, mode='bilinear', align_corners=False)[0]
            ds.set_data(dict(seg_logits=PixelData(data=a),
                             pred_sem_seg=PixelData(data=self._labels(a)[None])))
        return data_samples

    def _labels(self, a: Tensor) -> Tensor:
        """``(k, H, W)`` alphas to an ``(H, W)`` long label map."""
        if self.mode == 'referring':
            return (a[0] > self.background_threshold).long()
        if self.background_index is None:
            return a.argmax(0)
        fg = torch.as_tensor(self._foreground_labels(), device=a.device, dtype=torch.long)
        conf, idx = a.max(0)
        return torch.where(conf > self.background_threshold, fg[idx],
                           torch.full_like(idx, self.background_index))
