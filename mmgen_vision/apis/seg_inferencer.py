# Copyright (c) mmgen_vision contributors. All rights reserved.
import copy
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.infer import BaseInferencer
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from torch import nn

from mmgen_vision.engine.runner import check_state_dict_matches
from mmgen_vision.registry import INFERENCERS
from mmgen_vision.utils import register_all_modules
from mmgen_vision.visualization import default_palette, overlay_label_map

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
        register_all_modules(init_default_scope=False)
        init_default_scope(scope)
        self._weights_name = weights
        if isinstance(weights, str) and weights.lower() == 'none':
            weights = None
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
    def _inputs_to_list(self, inputs) -> list:
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

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

    def visualize(self, inputs: List[InputType], preds: list, out_dir: Optional[str] = None,
                  alpha: float = 0.5, skip_labels: Sequence[int] = ()) -> List[np.ndarray]:
        """Paint each prediction over its image (RGB ``(H, W, 3)``); save PNGs in ``out_dir``."""
        painted = []
        for index, (item, pred) in enumerate(zip(inputs, preds)):
            image = mmcv.imread(item, channel_order='rgb') if isinstance(item, str) else \
                mmcv.bgr2rgb(item)
            labels = pred.pred_sem_seg.data[0].cpu().numpy()
            if image.shape[:2] != labels.shape:  # e.g. a centre crop became the original
                image = mmcv.imresize(image, labels.shape[::-1])
            vis = overlay_label_map(image, labels, self.dataset_meta['palette'], alpha,
                                    skip_labels=skip_labels)
            painted.append(vis)
            if out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                name = osp.splitext(osp.basename(item))[0] if isinstance(item, str) else \
                    f'{index:05d}'
                mmcv.imwrite(mmcv.rgb2bgr(vis), osp.join(out_dir, f'{name}_seg.png'))
        return painted

    def postprocess(self, preds: list, visualization: List[np.ndarray],
                    return_datasamples: bool = False) -> Dict[str, list]:
        """``{'predictions': label maps (H, W) int64 or data samples, 'visualization': ...}``."""
        predictions = preds if return_datasamples else [
            pred.pred_sem_seg.data[0].cpu().numpy().astype(np.int64) for pred in preds
        ]
        return dict(predictions=predictions, visualization=visualization)
