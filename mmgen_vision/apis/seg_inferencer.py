# Copyright (c) mmgen_vision contributors. All rights reserved.
import copy
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.infer import BaseInferencer
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from torch import nn

from mmgen_vision.models.common.batching import predict_by_shape
from mmgen_vision.registry import INFERENCERS
from mmgen_vision.utils import load_config, register_all_modules
from mmgen_vision.utils.checkpoint import check_state_dict_matches
from mmgen_vision.utils.image_io import ImageReadError, expand_image_inputs, read_image
from mmgen_vision.visualization import default_palette, overlay_label_map
from mmgen_vision.visualization.xdecoder_vis import add_text_band

InputType = Union[str, np.ndarray]

#: Transforms of a test pipeline that read annotations, which an inferencer does not have.
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadReferringAnnotations', 'LoadPanopticAnnotations')


@INFERENCERS.register_module()
class SegInferencer(BaseInferencer):
    """Inferencer for every mmgen_vision segmentor config (stock mmseg models, Peekaboo,
    GroupViT's zero-shot segmentor), the shared base of the methods' demos.

    It builds the model from the config, loads ``weights`` through the same checks as
    ``CheckedRunner`` (a checkpoint of another model is refused, naming the file), reuses the
    config's test pipeline without its annotation loaders, and returns label maps at each
    image's original size, optionally painted over the image.

    Args:
        model (str | Config): Config file or config.
        weights (str, optional): Checkpoint; ``None`` or ``'none'`` for training-free models.
        device (str, optional): Defaults to CUDA when available.
        scope (str): Registry scope. Defaults to ``'mmgen_vision'``.
        show_progress (bool): Defaults to False.

    Example:
        >>> inferencer = SegInferencer('configs/peekaboo/<referring config>.py', 'none')
        >>> result = inferencer('scene.jpg', texts=['the red circle'], out_dir='vis/')
        >>> result['predictions'][0].shape  # (H, W) labels
    """
    preprocess_kwargs = {'texts'}
    forward_kwargs: set = set()
    visualize_kwargs = {'out_dir', 'alpha', 'skip_labels'}
    postprocess_kwargs = {'return_datasamples'}

    def __init__(self,
                 model: Union[str, Config, ConfigDict],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: str = 'mmgen_vision',
                 show_progress: bool = False) -> None:
        register_all_modules(init_default_scope=False)  # and setup_compat()
        init_default_scope(scope)
        self._weights_name = weights
        if isinstance(weights, str) and weights.lower() == 'none':
            weights = None
        if isinstance(model, str) and osp.isfile(model):
            model = load_config(model)  # the tools' checks: misspelt keys, stale variables
        super().__init__(model=model, weights=weights, device=device, scope=scope,
                         show_progress=show_progress)
        self.dataset_meta = self._dataset_meta(self.cfg)

    # ---------------------------------------------------------------- building
    def _load_weights_to_model(self, model: nn.Module, checkpoint: Optional[dict],
                               cfg: Optional[Config]) -> None:
        if checkpoint is None:
            return  # training-free models (weights come from the config) or random init
        state_dict = checkpoint.get('state_dict', checkpoint)
        check_state_dict_matches(model, state_dict, str(self._weights_name),
                                 revise_keys=[(r'^module\.', '')])
        _load_checkpoint_to_model(model, checkpoint)

    def _init_pipeline(self, cfg: Config) -> Callable:
        steps = [
            copy.deepcopy(step) for step in cfg.test_dataloader.dataset.pipeline
            if not step['type'].split('.')[-1] in ANNOTATION_LOADERS
        ]
        if not steps or 'LoadImage' not in steps[0]['type']:
            raise ValueError('the test pipeline must start with an image loader, got '
                             f'{steps[0]["type"] if steps else "nothing"}')
        from_array = [dict(type='mmseg.LoadImageFromNDArray')] + steps[1:]
        self._array_pipeline = Compose(from_array)
        return Compose(steps)

    @staticmethod
    def _dataset_meta(cfg: Config) -> dict:
        dataset = cfg.test_dataloader.dataset
        meta = dict(dataset.get('metainfo') or {})
        if 'classes' not in meta:
            from mmgen_vision.registry import DATASETS
            dataset_cls = DATASETS.get(dataset['type'])
            meta = dict(getattr(dataset_cls, 'METAINFO', {}) or {})
        classes = meta.get('classes') or cfg.model.get('class_names') or ()
        palette = meta.get('palette') or default_palette(max(len(classes), 2)).tolist()
        return dict(classes=tuple(classes), palette=[list(c) for c in palette])

    # ---------------------------------------------------------------- the call chain
    #: Keyword arguments of ``__call__`` that hold one value per input image: the value of an
    #: input that cannot be read is dropped with it.
    per_image_kwargs = ('texts', )

    def __call__(self, inputs, return_datasamples: bool = False, batch_size: int = 1,
                 **kwargs) -> dict:
        """Predict every readable input; report the others instead of stopping at the first.

        Args:
            inputs (str | np.ndarray | list): An image path, a folder (its image files, sorted),
                a BGR array (any dtype / channels :func:`~mmgen_vision.utils.read_image`
                accepts), or a list of them.
            return_datasamples (bool): Return data samples instead of plain predictions.
            batch_size (int): Images per forward pass.
            **kwargs: The keyword arguments of ``preprocess``, ``visualize`` and
                ``postprocess``.

        Returns:
            dict: ``predictions`` and ``visualization``, one per readable input in input order,
            and ``failures``: one :class:`~mmgen_vision.utils.ImageReadError` (``.path``,
            ``.reason``) per input that could not be read (missing, empty, not an image,
            truncated, unreadable mode).

        Raises:
            ImageReadError: A single image (not a list or a folder) cannot be read.
        """
        single = not isinstance(inputs, (list, tuple)) and not (
            isinstance(inputs, (str, os.PathLike)) and osp.isdir(inputs))
        items = self._inputs_to_list(inputs)
        readable, self._input_index, failures = [], [], []
        for index, item in enumerate(items):
            try:
                readable.append(self._read_input(index, item))
                self._input_index.append(index)
            except ImageReadError as err:
                if single:
                    raise
                failures.append(err)
        for key in self.per_image_kwargs:
            values = kwargs.get(key)
            if values is None:
                continue
            if len(values) != len(items):
                raise ValueError(f'{len(values)} {key} for {len(items)} images: give one per '
                                 'image')
            kwargs[key] = [values[i] for i in self._input_index]
        results = super().__call__(readable, return_datasamples, batch_size, **kwargs)
        results['failures'] = failures
        return results

    def _inputs_to_list(self, inputs) -> list:
        return expand_image_inputs(inputs if isinstance(inputs, (list, tuple)) else [inputs])

    @staticmethod
    def _read_input(index: int, item) -> InputType:
        """Check that an input reads as an image: a path is kept (the test pipeline loads it),
        an array becomes ``uint8 (H, W, 3)``.

        Raises:
            ImageReadError: Naming the path (or ``inputs[index]``) and the cause.
            TypeError: Neither a path nor an array.
        """
        if isinstance(item, (str, os.PathLike)):
            read_image(item, channel_order='bgr')
            return os.fspath(item)
        if isinstance(item, np.ndarray):
            return read_image(item, channel_order='bgr', name=f'inputs[{index}] (array)')
        raise TypeError(f'inputs must be image paths or arrays, got {type(item)}')

    def _output_name(self, index: int, item: InputType) -> str:
        """File stem of an output: the image's stem, or the array's position in the inputs."""
        if isinstance(item, str):
            return osp.splitext(osp.basename(item))[0]
        positions = getattr(self, '_input_index', None)
        return f'{positions[index] if positions and index < len(positions) else index:05d}'

    def preprocess(self, inputs: List[InputType], batch_size: int = 1,
                   texts: Optional[Sequence[str]] = None, **kwargs):
        if texts is not None and len(texts) != len(inputs):
            raise ValueError(f'{len(texts)} texts for {len(inputs)} images: give one per image')

        def load(index: int, item: InputType) -> dict:
            extra = {} if texts is None else dict(text=texts[index])
            if isinstance(item, str):
                if not osp.isfile(item):
                    raise FileNotFoundError(f'image {item} does not exist')
                return self.pipeline(dict(img_path=item, **extra))
            if isinstance(item, np.ndarray):
                return self._array_pipeline(dict(img=item, **extra))
            raise TypeError(f'inputs must be image paths or arrays, got {type(item)}')

        processed = (load(i, item) for i, item in enumerate(inputs))
        yield from map(self.collate_fn, self._get_chunk_data(processed, batch_size))

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> list:
        """Predict a batch, one forward pass per group of equally sized images
        (:func:`~mmgen_vision.models.common.predict_by_shape`): an image is padded as when it
        is predicted alone, so its prediction does not depend on the rest of the batch, and
        stock mmseg models, which refuse images of different sizes at test time, take any list
        of images with ``batch_size > 1``."""
        return predict_by_shape(self.model.test_step, inputs)

    def visualize(self, inputs: List[InputType], preds: list, out_dir: Optional[str] = None,
                  alpha: float = 0.5, skip_labels: Sequence[int] = ()) -> List[np.ndarray]:
        """Paint each prediction over its image (RGB ``(H, W, 3)``); save PNGs in ``out_dir``.

        A prediction with a sentence (``texts=``, referring models) has it written under the
        picture. An image given more than once (e.g. one per sentence) gets one file per input:
        ``<stem>_seg.png``, then ``<stem>_<input position>_seg.png``, never overwritten."""
        painted, written = [], set()
        for index, (item, pred) in enumerate(zip(inputs, preds)):
            image = read_image(item, channel_order='rgb') if isinstance(item, str) else \
                mmcv.bgr2rgb(item)
            labels = pred.pred_sem_seg.data[0].cpu().numpy()
            if image.shape[:2] != labels.shape:  # e.g. a centre crop became the original
                image = mmcv.imresize(image, labels.shape[::-1])
            vis = overlay_label_map(image, labels, self.dataset_meta['palette'], alpha,
                                    skip_labels=skip_labels)
            if pred.metainfo.get('text'):
                vis = add_text_band(vis, [str(pred.metainfo['text'])])
            painted.append(vis)
            if out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                name = self._output_name(index, item)
                if name in written:
                    positions = getattr(self, '_input_index', None) or []
                    name = f'{name}_{positions[index] if index < len(positions) else index:05d}'
                written.add(name)
                mmcv.imwrite(mmcv.rgb2bgr(vis), osp.join(out_dir, f'{name}_seg.png'))
        return painted

    def postprocess(self, preds: list, visualization: List[np.ndarray],
                    return_datasamples: bool = False) -> Dict[str, list]:
        """``{'predictions': label maps (H, W) int64 or data samples, 'visualization': ...}``."""
        predictions = preds if return_datasamples else [
            pred.pred_sem_seg.data[0].cpu().numpy().astype(np.int64) for pred in preds
        ]
        return dict(predictions=predictions, visualization=visualization)
