# Copyright (c) mmgen_vision contributors. All rights reserved.
"""In-context inference with Painter: one example pair of ANY task + query images."""
import os
import os.path as osp
from typing import Optional, Sequence, Union

import cv2
import mmcv
import numpy as np
import torch
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.structures import BaseDataElement

from mmgen_vision.registry import INFERENCERS, MODELS
from mmgen_vision.utils import load_config, register_all_modules
from mmgen_vision.utils.checkpoint import check_state_dict_matches, load_local_checkpoint
from mmgen_vision.utils.image_io import ImageReadError, expand_image_inputs, read_image
from mmgen_vision.visualization.painter_vis import painter_side_by_side

ImageType = Union[str, np.ndarray]


def _load_rgb(item: ImageType, what: str) -> np.ndarray:
    """An image path (any format the cv2 decoder reads) or an RGB array (any dtype / channels
    :func:`~mmgen_vision.utils.read_image` accepts) -> ``uint8 (H, W, 3)`` RGB.

    Raises:
        ImageReadError: Naming the file (or ``what`` for an array) and the cause.
    """
    return read_image(item, channel_order='rgb', name=what)


@INFERENCERS.register_module()
class PainterInferencer:
    """Paint the output of a task shown by one (image, target) example on new images.

    The example's target is taken as an IMAGE, so any task works, including ones the model
    was never trained on (out-of-domain prompts). The query goes under the prompt, the bottom
    half of the target canvas is inpainted in one forward pass and resized back to the query's
    size. With ``task`` naming one of ``model.codecs``, the standard prediction is decoded too.

    Args:
        model (str | Config | Painter): Config file / config of a :class:`Painter`, or a model.
        weights (str, optional): Checkpoint (checked against the model like ``CheckedRunner``).
        device (str): Device.
        use_cache (bool, optional): Reuse the prompt half's features across queries (needs a
            model with ``prompt_isolation``); None: the config's ``test_cfg``.

    Example:
        >>> inferencer = PainterInferencer('configs/painter/<config>.py', 'painter.pth')
        >>> out = inferencer('ex.jpg', 'ex_depth.png', ['a.jpg', 'b.jpg'], out_dir='vis/')
        >>> out['predictions'][0].shape  # (H, W, 3) uint8 painted target of a.jpg
    """

    def __init__(self, model, weights: Optional[str] = None, device: str = 'cpu',
                 use_cache: Optional[bool] = None) -> None:
        register_all_modules(init_default_scope=False)  # and setup_compat()
        init_default_scope('mmgen_vision')
        if isinstance(model, torch.nn.Module):
            self.model = model
        else:
            cfg = load_config(model) if isinstance(model, str) else model
            model_cfg = dict(cfg.model)
            model_cfg['init_cfg'] = None
            self.model = MODELS.build(model_cfg)
        if weights is not None:
            checkpoint = load_local_checkpoint(weights, map_location='cpu')
            state_dict = checkpoint.get('state_dict', checkpoint)
            check_state_dict_matches(self.model, state_dict, weights, strict=True,
                                     revise_keys=[(r'^module\.', '')])
            _load_checkpoint_to_model(self.model, checkpoint)
        self.model.to(device).eval()
        self.device = device
        self.use_cache = use_cache
        h, w = self.model.backbone.img_size
        self.half_size = (h // 2, w)

    def _load_prompt_target(self, prompt_target: ImageType, task: Optional[str]):
        """The prompt target as a painting, and how it was obtained.

        With ``task``, a label mask (path or array) is encoded by ``model.codecs[task]``
        (:func:`~mmgen_vision.datasets.painter_prompt.encode_prompt_target`); an encoded painting
        is used as is. Without ``task`` the target is taken as an image.
        """
        if task is None:
            return _load_rgb(prompt_target, 'prompt target'), 'an image, used as is (no task)'
        from mmgen_vision.datasets.painter_prompt import encode_prompt_target, read_prompt_target
        if isinstance(prompt_target, (str, os.PathLike)):
            path = str(prompt_target)
            raw = read_prompt_target(path)
        else:
            raw, path = np.asarray(prompt_target), 'prompt target (array)'
        if raw.dtype != np.uint8 or raw.ndim not in (2, 3):
            return _load_rgb(prompt_target, 'prompt target'), 'an image, used as is'
        target, how = encode_prompt_target(raw, self.model.codecs[task], path)
        return target, how

    def _resize(self, img: np.ndarray, nearest: bool = False) -> np.ndarray:
        interp = cv2.INTER_NEAREST if nearest else cv2.INTER_CUBIC
        return cv2.resize(img, (self.half_size[1], self.half_size[0]), interpolation=interp)

    @torch.no_grad()
    def __call__(self, prompt_img: ImageType, prompt_target: ImageType,
                 queries: Union[ImageType, Sequence[ImageType]], out_dir: Optional[str] = None,
                 task: Optional[str] = None, batch_size: int = 4,
                 target_nearest: bool = True) -> dict:
        """Run the prompt on every query.

        Args:
            prompt_img, prompt_target: The example pair (paths or RGB arrays).
            queries: A query image (path or RGB array), a folder (its image files, sorted) or
                a list of them.
            out_dir (str, optional): Write ``<name>_pred.png`` (the painted target) and
                ``<name>_vis.png`` (prompt | prompt target | query | prediction) there.
            task (str, optional): Decode with ``model.codecs[task]`` as well.
            batch_size (int): Queries per forward pass.
            target_nearest (bool): Resize the prompt target with nearest neighbours (discrete
                colour codes); False: bicubic (images, depth).

        Returns:
            dict: ``predictions`` (list of ``uint8 (H, W, 3)`` RGB at each query's size),
            ``data_samples`` (with ``pred_painting`` and, with ``task``, the decoded fields),
            ``visualizations`` (side-by-side pictures), one per readable query in input order,
            ``failures``: one :class:`~mmgen_vision.utils.ImageReadError` (``.path``,
            ``.reason``) per query that could not be read (the other queries are predicted),
            and ``prompt_target_encoding``: how the prompt target was read (with ``task``, a
            label mask is encoded by the task's codec, named here; a painting is used as is).

        Raises:
            ImageReadError: The prompt pair, or a single query (not a list or a folder),
                cannot be read.
        """
        if task is not None and task not in self.model.codecs:
            raise KeyError(f'task {task!r} has no codec in this model (it has '
                           f'{sorted(self.model.codecs)}); omit `task` for image outputs')
        p_img = _load_rgb(prompt_img, 'prompt image')
        p_tgt, prompt_encoding = self._load_prompt_target(prompt_target, task)
        single = not isinstance(queries, (list, tuple)) and not (
            isinstance(queries, (str, os.PathLike)) and osp.isdir(queries))
        queries = expand_image_inputs(queries if isinstance(queries, (list, tuple)) else [queries])
        names, images, failures = [], [], []
        for i, query in enumerate(queries):
            try:
                images.append(_load_rgb(query, f'query {i} (array)'))
            except ImageReadError as err:
                if single:
                    raise
                failures.append(err)
                continue
            names.append(osp.splitext(osp.basename(query))[0] if isinstance(
                query, (str, os.PathLike)) else f'query_{i}')
        top_img = self._resize(p_img)
        top_tgt = self._resize(p_tgt, nearest=target_nearest)
        target = np.concatenate([top_tgt, top_tgt], axis=0)
        predictions, samples, vis = [], [], []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            inputs, batch_samples = [], []
            for img in chunk:
                canvas = np.concatenate([top_img, self._resize(img)], axis=0)
                inputs.append(torch.from_numpy(canvas.transpose(2, 0, 1).copy()))
                sample = BaseDataElement(metainfo=dict(ori_shape=img.shape[:2], task=task))
                sample.target = torch.from_numpy(target.transpose(2, 0, 1).copy())
                batch_samples.append(sample)
            data = self.model.data_preprocessor(
                dict(inputs=inputs, data_samples=batch_samples), False)
            if self.use_cache is not None:
                pred = self.model.predict_canvas(data['inputs']['imgs'], data['inputs']['tgts'],
                                                 use_cache=self.use_cache)
                self.model.decode_samples(self.model.denormalize(pred), data['data_samples'])
            else:
                self.model.predict(data['inputs'], data['data_samples'])
            for img, sample in zip(chunk, data['data_samples']):
                painted = sample.pred_painting.data.permute(1, 2, 0).round().byte().cpu().numpy()
                predictions.append(painted)
                samples.append(sample)
                vis.append(painter_side_by_side(p_img, p_tgt, img, painted))
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            for name, painted, picture in zip(names, predictions, vis):
                mmcv.imwrite(painted[..., ::-1], osp.join(out_dir, f'{name}_pred.png'))
                mmcv.imwrite(picture[..., ::-1], osp.join(out_dir, f'{name}_vis.png'))
        return dict(predictions=predictions, data_samples=samples, visualizations=vis,
                    failures=failures, prompt_target_encoding=prompt_encoding)
