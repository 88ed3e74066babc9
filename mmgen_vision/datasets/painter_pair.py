# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter's data: two samples of one task stitched into an (image, target) canvas pair.

* :class:`PainterPairDataset` (training) wraps any stock dataset whose pipeline only LOADS a
  sample (image + annotation); each item encodes the ground truth of two samples with the
  task's codec, augments each (image, target, valid) triple jointly and stacks them
  vertically: top = the in-context example, bottom = the sample to inpaint.
* :class:`PainterInContextDataset` (evaluation) wraps a stock dataset whose pipeline ends in the
  stock packer (``mmseg.PackSegInputs``, ``mmpose.PackPoseInputs``, ...): the query is put
  under a fixed prompt pair taken from the config, and the stock data sample (with its ground
  truth at the original size) travels along so that the stock metric evaluates the decoded
  prediction.
* :class:`PainterRestorationDataset` lists paired restoration folders (SIDD / Rain / LoL).
"""
import os
import os.path as osp
import random
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.structures import BaseDataElement
from torch.utils.data import Dataset

from mmgen_vision.registry import DATASETS, TASK_UTILS
from .painter_prompt import load_prompt_pair, loaded_rgb, resize_array

_IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


@DATASETS.register_module()
class PainterRestorationDataset(BaseDataset):
    """Paired restoration folders: ``<data_root>/<input_dir>/<name>`` (degraded) and
    ``<data_root>/<target_dir>/<name>`` (clean), matched by file name.

    Args:
        input_dir (str): Folder of the degraded images (``train/input``, ``our485/low``, ...).
        target_dir (str): Folder of the clean images.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``data_root``, ``pipeline``,
            ``test_mode``, ...).
    """
    METAINFO = dict(task='restoration')

    def __init__(self, input_dir: str, target_dir: str, **kwargs) -> None:
        self.input_dir, self.target_dir = input_dir, target_dir
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        in_dir = osp.join(self.data_root, self.input_dir)
        gt_dir = osp.join(self.data_root, self.target_dir)
        for d in (in_dir, gt_dir):
            if not osp.isdir(d):
                raise FileNotFoundError(f'restoration folder {d} does not exist')
        names = sorted(n for n in os.listdir(in_dir) if n.lower().endswith(_IMG_EXTS))
        missing = [n for n in names if not osp.isfile(osp.join(gt_dir, n))]
        if missing:
            raise FileNotFoundError(f'{len(missing)} inputs in {in_dir} have no clean image in '
                                    f'{gt_dir}, e.g. {missing[:3]}')
        if not names:
            raise FileNotFoundError(f'no images in {in_dir}')
        return [dict(img_path=osp.join(in_dir, n), gt_img_path=osp.join(gt_dir, n))
                for n in names]


class PainterAugment:
    """Joint augmentation of an (image, target, valid) triple (the release's recipe).

    RandomResizedCrop (``scale``, ``ratio``) to ``size`` -> horizontal flip (``flip_prob``) ->
    colour jitter of the IMAGE only (``color_jitter`` dict with ``prob``). Tasks whose codec
    has ``augment=False`` (instances, keypoints) are only resized.

    Args:
        size (tuple[int, int]): Output ``(h, w)`` of one image.
        scale (tuple[float, float]): Area range of the crop.
        ratio (tuple[float, float]): Aspect range of the crop.
        flip_prob (float): Horizontal flip probability.
        color_jitter (dict, optional): ``brightness``, ``contrast``, ``saturation``, ``hue``,
            ``prob`` (torchvision's ``ColorJitter``); None: no jitter.
        interpolation (str): Image interpolation.
    """

    def __init__(self, size: Sequence[int], scale: Sequence[float] = (0.3, 1.),
                 ratio: Sequence[float] = (3 / 4, 4 / 3), flip_prob: float = 0.5,
                 color_jitter: Optional[dict] = None, interpolation: str = 'bicubic') -> None:
        self.size = tuple(size)
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.flip_prob = flip_prob
        self.interpolation = interpolation
        self.jitter = None
        if color_jitter:
            from torchvision.transforms import ColorJitter
            cfg = dict(color_jitter)
            self.jitter_prob = cfg.pop('prob', 0.8)
            self.jitter = ColorJitter(**cfg)

    def crop_box(self, h: int, w: int, rng: random.Random) -> Tuple[int, int, int, int]:
        """A random ``(top, left, height, width)`` crop (torchvision's RandomResizedCrop rule)."""
        area = h * w
        log_ratio = (np.log(self.ratio[0]), np.log(self.ratio[1]))
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = np.exp(rng.uniform(*log_ratio))
            cw = int(round(np.sqrt(target * aspect)))
            ch = int(round(np.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return rng.randint(0, h - ch), rng.randint(0, w - cw), ch, cw
        aspect = w / h
        if aspect < self.ratio[0]:
            cw, ch = w, int(round(w / self.ratio[0]))
        elif aspect > self.ratio[1]:
            ch, cw = h, int(round(h * self.ratio[1]))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def __call__(self, img: np.ndarray, target: np.ndarray, valid: np.ndarray,
                 target_mode: str, geometric: bool = True,
                 rng: Optional[random.Random] = None) -> Tuple[np.ndarray, ...]:
        rng = rng or random
        if geometric:
            top, left, ch, cw = self.crop_box(img.shape[0], img.shape[1], rng)
            img = img[top:top + ch, left:left + cw]
            target = target[top:top + ch, left:left + cw]
            valid = valid[top:top + ch, left:left + cw]
        img = resize_array(img, self.size, self.interpolation)
        target = resize_array(target, self.size, target_mode)
        valid = resize_array(valid, self.size, 'nearest')
        if geometric and rng.random() < self.flip_prob:
            img, target, valid = img[:, ::-1], target[:, ::-1], valid[:, ::-1]
        if geometric and self.jitter is not None and rng.random() < self.jitter_prob:
            t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
            img = self.jitter(t).numpy().transpose(1, 2, 0)
        return (np.ascontiguousarray(img), np.ascontiguousarray(target),
                np.ascontiguousarray(valid))


def _to_chw(arr: np.ndarray, dtype=None) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    return t if dtype is None else t.to(dtype)


@DATASETS.register_module()
class PainterPairDataset(Dataset):
    """Training pairs of one task, stitched into a canvas.

    Args:
        dataset (dict): The stock dataset; its pipeline loads the image and the annotation
            (no packing), e.g. ``[LoadImageFromFile, mmseg.LoadAnnotations]``.
        task (str): Task name (the model's codec key; also used by the multi-task sampler).
        codec (dict): Codec config (``TASK_UTILS``).
        img_size (tuple[int, int]): ``(h, w)`` of ONE image; the canvas is ``(2h, w)``.
        augment (dict, optional): :class:`PainterAugment` arguments (without ``size``); None:
            plain resizing. Geometric augmentation is skipped when ``codec.augment`` is False.
        max_refetch (int): Retries with another index when a sample fails to load.
    """

    def __init__(self, dataset: Union[dict, Dataset], task: str, codec: dict,
                 img_size: Sequence[int] = (448, 448), augment: Optional[dict] = None,
                 max_refetch: int = 10) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        if len(self.dataset) < 2:
            raise ValueError(f'PainterPairDataset ({task}) needs at least 2 samples, the wrapped '
                             f'dataset has {len(self.dataset)}')
        self.task = task
        self.codec = TASK_UTILS.build(codec) if isinstance(codec, dict) else codec
        self.img_size = tuple(img_size)
        self.augment = PainterAugment(self.img_size, **(augment or dict(scale=(1., 1.),
                                                                        ratio=(1., 1.),
                                                                        flip_prob=0.)))
        self.geometric = augment is not None and self.codec.augment
        self.max_refetch = max_refetch
        self.metainfo = dict(task=task)

    def __len__(self) -> int:
        return len(self.dataset)

    def full_init(self) -> None:
        """Fully initialise the wrapped dataset (``ConcatDataset`` calls this)."""
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def encode(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, str]:
        """Load sample ``index`` -> augmented ``(img, target, valid, img_path)``."""
        results = self.dataset[index]
        if not isinstance(results, dict):
            raise TypeError(f'the wrapped dataset of task {self.task} returned '
                            f'{type(results).__name__}; its pipeline must stop before packing')
        target, valid = self.codec.encode(results)
        img = loaded_rgb(results)
        if img.shape[:2] != target.shape[:2]:
            raise ValueError(f'{results.get("img_path")}: image {img.shape[:2]} and encoded '
                             f'target {target.shape[:2]} differ')
        img, target, valid = self.augment(img, target, valid, self.codec.target_resize_mode,
                                          self.geometric)
        return img, target, valid, results.get('img_path', str(index))

    def pair(self, index: int, other: int) -> dict:
        """The packed canvas of ``other`` (top, the example) over ``index`` (bottom)."""
        top = self.encode(other)
        bottom = self.encode(index)
        img = np.concatenate([top[0], bottom[0]], axis=0)
        target = np.concatenate([top[1], bottom[1]], axis=0)
        valid = np.concatenate([top[2], bottom[2]], axis=0)
        sample = BaseDataElement(metainfo=dict(task=self.task, img_path=bottom[3],
                                               prompt_path=top[3], img_shape=img.shape[:2]))
        sample.target = _to_chw(target)
        sample.valid = _to_chw(valid, torch.float32)
        return dict(inputs=_to_chw(img), data_samples=sample)

    def __getitem__(self, index: int) -> dict:
        for _ in range(self.max_refetch + 1):
            other = random.randrange(len(self) - 1)
            other += other >= index
            try:
                return self.pair(index, other)
            except (FileNotFoundError, OSError) as err:
                last = err
                index = random.randrange(len(self))
        raise RuntimeError(f'{self.task}: could not load a pair after {self.max_refetch} '
                           f'retries: {last}')


@DATASETS.register_module()
class PainterInContextDataset(Dataset):
    """Evaluation: each query (from a stock dataset + stock packer) under one prompt pair, or
    under several prompt pairs of different tasks (``prompts``).

    Single prompt: ``inputs`` is the image canvas ``uint8 (3, 2h, w)`` and the data sample's
    ``target`` the target canvas ``[prompt target; prompt target]``.

    Several prompts (e.g. COCO panoptic = the semantic prompt + the class-agnostic instance
    prompt, decoded separately and merged by the model's ``mergers[task]``): ``inputs`` and
    ``target`` are ``(P, 3, 2h, w)``, one canvas per prompt in the order of ``prompts``, and the
    sample's metainfo ``prompt_tasks`` names the task (model codec) of each.

    Args:
        dataset (dict): Stock dataset whose pipeline ends in the stock packer; the packed
            ``inputs`` is the BGR query image, the packed data sample holds the ground truth
            (``gt_sem_seg``, ``gt_depth_map``, ``gt_img``, ...) and ``ori_shape``.
        task (str): Task name (single prompt: the model decodes with ``model.codecs[task]``;
            several prompts: the model merges with ``model.mergers[task]``).
        codec (dict, optional): The task's codec (encodes the prompt's ground truth); single
            prompt only.
        prompt (dict, optional): Either ``dataset`` (a stock dataset config with a LOADING
            pipeline, e.g. the training split) and ``index``, or ``img_path`` and
            ``target_path`` (an image and its already-encoded target image, e.g. the output of
            ``painter_demo.py``); single prompt only.
        img_size (tuple[int, int]): ``(h, w)`` of one half of the canvas.
        query_bgr (bool): The packed query is BGR (as every stock packer gives it).
        prompts (dict[str, dict], optional): Several prompts: prompt task -> ``dict(codec=...,
            prompt=...)`` (as ``codec`` / ``prompt`` above). Exclusive with ``codec`` /
            ``prompt``.
    """

    def __init__(self, dataset: Union[dict, Dataset], task: str, codec: Optional[dict] = None,
                 prompt: Optional[dict] = None, img_size: Sequence[int] = (448, 448),
                 query_bgr: bool = True, prompts: Optional[Dict[str, dict]] = None) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.task = task
        self.img_size = tuple(img_size)
        self.query_bgr = query_bgr
        self.metainfo = dict(getattr(self.dataset, 'metainfo', {}) or {}, task=task)
        if prompts is not None:
            if codec is not None or prompt is not None:
                raise ValueError('give either `codec` + `prompt` (one prompt) or `prompts` '
                                 '(several), not both')
            if not prompts:
                raise ValueError('`prompts` is empty')
            self.codecs = {}
            self.prompt_pairs: Dict[str, Tuple[np.ndarray, np.ndarray, str]] = {}
            for name, cfg in prompts.items():
                missing = {'codec', 'prompt'} - set(cfg)
                if missing:
                    raise KeyError(f'prompts[{name!r}] needs {sorted(missing)}')
                codec_cfg = cfg['codec']
                self.codecs[name] = TASK_UTILS.build(codec_cfg) if isinstance(
                    codec_cfg, dict) else codec_cfg
                self.set_prompt(task=name, **cfg['prompt'])
            self.codec = None
        else:
            if codec is None or prompt is None:
                raise ValueError(f'{task}: a single-prompt PainterInContextDataset needs '
                                 '`codec` and `prompt` (or give `prompts`)')
            self.codec = TASK_UTILS.build(codec) if isinstance(codec, dict) else codec
            self.codecs = None
            self.set_prompt(**prompt)

    @property
    def multi_prompt(self) -> bool:
        return self.codecs is not None

    def __len__(self) -> int:
        return len(self.dataset)

    def set_prompt(self, task: Optional[str] = None, **prompt) -> None:
        """Load, encode and resize the prompt pair (``self.prompt_img`` / ``prompt_target``,
        ``uint8 (h, w, 3)`` RGB); arguments as :func:`load_prompt_pair`. With several prompts,
        ``task`` names the prompt to replace (its pair is in ``self.prompt_pairs[task]``)."""
        if self.codecs is None:
            if task is not None and task != self.task:
                raise KeyError(f'this dataset has one prompt, of task {self.task!r}; got '
                               f'{task!r}')
            self.prompt_img, self.prompt_target, self.prompt_source = load_prompt_pair(
                self.codec, self.img_size, **prompt)
            return
        if task not in self.codecs:
            raise KeyError(f'name the prompt to set (task=...), one of {list(self.codecs)}; '
                           f'got {task!r}')
        self.prompt_pairs[task] = load_prompt_pair(self.codecs[task], self.img_size, **prompt)

    def canvas(self, query_rgb: np.ndarray, prompt_img: Optional[np.ndarray] = None,
               prompt_target: Optional[np.ndarray] = None
               ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``uint8 (H, W, 3)`` query -> image canvas and target canvas ``(3, 2h, w)`` (under
        the single prompt by default)."""
        prompt_img = self.prompt_img if prompt_img is None else prompt_img
        prompt_target = self.prompt_target if prompt_target is None else prompt_target
        query = resize_array(query_rgb, self.img_size, 'bicubic')
        img = np.concatenate([prompt_img, query], axis=0)
        target = np.concatenate([prompt_target, prompt_target], axis=0)
        return _to_chw(img), _to_chw(target)

    def __getitem__(self, index: int) -> dict:
        packed = self.dataset[index]
        if not isinstance(packed, dict) or 'data_samples' not in packed:
            raise TypeError('the wrapped evaluation dataset must end in a stock packer '
                            '(inputs + data_samples)')
        query = packed['inputs'].permute(1, 2, 0).numpy()
        if self.query_bgr:
            query = query[..., ::-1]
        query = np.ascontiguousarray(query)
        sample = packed['data_samples']
        if self.multi_prompt:
            tasks = tuple(self.prompt_pairs)
            pairs = [self.canvas(query, *self.prompt_pairs[t][:2]) for t in tasks]
            img = torch.stack([p[0] for p in pairs])
            target = torch.stack([p[1] for p in pairs])
            sample.set_metainfo(dict(task=self.task, prompt_tasks=tasks, prompt_path=tuple(
                self.prompt_pairs[t][2] for t in tasks)))
        else:
            img, target = self.canvas(query)
            sample.set_metainfo(dict(task=self.task, prompt_path=self.prompt_source))
        if 'ori_shape' not in sample.metainfo:
            sample.set_metainfo(dict(ori_shape=tuple(query.shape[:2])))
        sample.target = target
        return dict(inputs=img, data_samples=sample)


#: Default per-task codecs of the release (for configs and the inferencer).
RELEASE_CODECS: Dict[str, dict] = dict(
    depth=dict(type='DepthCodec', max_depth=10.),
    ade20k=dict(type='ADE20KSemanticCodec'),
    coco_semantic=dict(type='COCOPanopticSemanticCodec'),
    coco_instance=dict(type='InstanceCodec'),
    coco_pose=dict(type='KeypointCodec'),
    sidd=dict(type='RestorationCodec'),
    derain=dict(type='RestorationCodec'),
    lol=dict(type='RestorationCodec'))
