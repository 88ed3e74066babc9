# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Inferencer of X-Decoder for every task of one set of weights."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np

from mmgen_vision.registry import INFERENCERS
from mmgen_vision.utils.image_io import read_image
from mmgen_vision.visualization.xdecoder_vis import (add_text_band, draw_label_map,
                                                     draw_named_masks, draw_ranking)
from .seg_inferencer import InputType, SegInferencer

#: Per-task extra inputs (metainfo keys the model reads).
TASK_INPUTS = {
    'semantic': (), 'instance': (), 'panoptic': (), 'referring': ('text', ),
    'retrieval': ('texts', ), 'caption': (), 'vqa': ('question', 'answer_candidates'),
    'ref-caption': ('text', ), 'region-retrieval': ('text', )
}


@INFERENCERS.register_module()
class XDecoderInferencer(SegInferencer):
    """X-Decoder inference: open-vocabulary semantic / instance / panoptic segmentation,
    referring segmentation, retrieval, captioning, VQA, referring captioning and region
    retrieval, selected by ``task``.

    Example:
        >>> inferencer = XDecoderInferencer('configs/xdecoder/<config>.py', 'ckpt.pth')
        >>> inferencer('scene.jpg', task='semantic', classes=['red circle', 'sky'])
        >>> inferencer('scene.jpg', task='referring', text='the star on the left')
        >>> inferencer('scene.jpg', task='retrieval', texts=['a red star', 'a dog'])
        >>> inferencer('scene.jpg', task='caption', out_dir='vis/')

    Outputs (``predictions``, one dict per image): ``sem_seg`` (H, W) labels and ``classes``;
    ``masks`` (N, H, W) bool, ``labels``, ``scores``, ``names`` (instance, referring);
    ``panoptic_seg`` (H, W) (``label + id * 1000``); ``caption``; ``scores`` and ``ranking``
    (retrieval: texts best first); ``answer`` and ``scores`` (VQA).

    Background (semantic segmentation) is explicit, ``background=``: ``None`` / ``'none'``
    (default: every pixel gets one of the classes, none is background), a class name among the
    classes (prompted like the others, reported as ``background_index`` and left unpainted), or
    a positive score threshold (pixels whose best class score, ``seg_logits`` = sum over
    queries of class probability x mask probability, is below it get ``IGNORE_INDEX`` 255: the
    release's ``mask_thr`` rule, ``use_thr_for_mc``). Each semantic result states its rule in
    ``background``.
    """
    #: Label of the pixels a ``background`` threshold leaves to no class.
    IGNORE_INDEX = 255
    preprocess_kwargs = {'task', 'classes', 'text', 'texts', 'question', 'answer_candidates'}
    #: ``texts`` are the retrieval candidates, shared by every image.
    per_image_kwargs = ()
    forward_kwargs = {'background'}
    visualize_kwargs = {'out_dir', 'alpha'}
    postprocess_kwargs = {'return_datasamples'}

    def preprocess(self, inputs: List[InputType], batch_size: int = 1, task: str = 'semantic',
                   classes: Optional[Sequence[str]] = None, **extra):
        """Load the images through the test pipeline and tag them with the task inputs."""
        from mmgen_vision.models.xdecoder.xdecoder import XDecoder
        task = XDecoder.check_task(task)
        meta = dict(task=task)
        if classes is not None:
            meta['classes'] = list(classes)
        for key in TASK_INPUTS[task]:
            if extra.get(key) is None:
                raise ValueError(f'task {task!r} needs `{key}`')
            meta[key] = extra[key]
        self._task = task
        for data in super().preprocess(inputs, batch_size):
            for sample in data['data_samples']:
                sample.set_metainfo(meta)
            yield data

    def forward(self, inputs: dict, background: Union[None, str, float] = None, **kwargs) -> list:
        """Predict a batch (see :meth:`SegInferencer.forward`), then apply the ``background``
        rule to the semantic results."""
        preds = super().forward(inputs, **kwargs)
        for pred in preds:
            if pred.metainfo.get('task') == 'semantic' and 'pred_sem_seg' in pred:
                self._apply_background(pred, background)
        return preds

    def _apply_background(self, pred, background: Union[None, str, float]) -> None:
        names = self._class_names(pred)
        if background is None or (isinstance(background, str) and background.lower() == 'none'):
            pred.set_metainfo(dict(background='none: every pixel gets one of the classes'))
        elif isinstance(background, str):
            if background not in names:
                raise ValueError(f'background={background!r} is none of the classes {names}: '
                                 'give one of them, a probability threshold, or None')
            index = names.index(background)
            pred.set_metainfo(dict(background=f'class {index} {background!r} (prompted like '
                                   'the others)', background_index=index))
        elif isinstance(background, (int, float)) and float(background) > 0:
            if 'seg_logits' not in pred:
                raise ValueError('a background threshold needs the class scores '
                                 '(seg_logits), which this model does not return')
            best = pred.seg_logits.data.max(dim=0).values
            labels = pred.pred_sem_seg.data.clone()
            labels[0][best < float(background)] = self.IGNORE_INDEX
            pred.pred_sem_seg.data = labels
            pred.set_metainfo(dict(background=f'threshold {float(background):g}: pixels whose '
                                   f'best class score is lower get {self.IGNORE_INDEX}'))
        else:
            raise ValueError(f'background must be None / "none", a class name or a positive '
                             f'score threshold, got {background!r}')

    def _class_names(self, pred) -> List[str]:
        names = pred.metainfo.get('classes') or self.model.class_names
        return list(names or self.dataset_meta['classes'])

    def _image(self, item: InputType, shape) -> np.ndarray:
        image = read_image(item, channel_order='rgb') if isinstance(item, str) else \
            mmcv.bgr2rgb(item)
        if image.shape[:2] != tuple(shape):
            image = mmcv.imresize(image, tuple(shape)[::-1])
        return image

    def visualize(self, inputs: List[InputType], preds: list, out_dir: Optional[str] = None,
                  alpha: float = 0.5) -> List[np.ndarray]:
        """Draw each result over its image (RGB); save PNGs in ``out_dir``."""
        painted = []
        for index, (item, pred) in enumerate(zip(inputs, preds)):
            task = pred.metainfo['task']
            image = self._image(item, pred.ori_shape)
            if task == 'semantic':
                labels = pred.pred_sem_seg.data[0].cpu().numpy()
                if 'background_index' in pred.metainfo:  # a named background is not painted
                    labels = np.where(labels == pred.background_index, self.IGNORE_INDEX, labels)
                vis = draw_label_map(image, labels, self._class_names(pred), alpha=alpha,
                                     ignore_index=self.IGNORE_INDEX)
            elif task in ('instance', 'panoptic'):
                inst = pred.pred_instances
                keep = (inst.scores > 0.3).cpu().numpy()
                names = self._class_names(pred)
                vis = draw_named_masks(image, inst.masks.cpu().numpy()[keep],
                                       [names[int(i)] for i in inst.labels.cpu()[keep]],
                                       alpha=alpha)
            elif task in ('referring', 'ref-caption', 'region-retrieval'):
                from mmgen_vision.models.xdecoder import split_phrases
                vis = draw_named_masks(image, pred.pred_instances.masks.cpu().numpy(),
                                       split_phrases(pred.metainfo['text']), alpha=alpha)
                if task == 'ref-caption':
                    vis = add_text_band(vis, [pred.pred_caption])
                elif task == 'region-retrieval':
                    vis = add_text_band(vis, [f'score {float(pred.retrieval_logits[0]):.2f}'])
            elif task == 'caption':
                vis = add_text_band(image, [pred.pred_caption])
            elif task == 'retrieval':
                vis = draw_ranking(image, list(pred.metainfo['texts']),
                                   pred.retrieval_logits.cpu().tolist())
            else:  # vqa
                vis = add_text_band(image, [f'Q: {pred.metainfo["question"]}',
                                            f'A: {pred.pred_answer}'])
            painted.append(vis)
            if out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                name = self._output_name(index, item)
                mmcv.imwrite(mmcv.rgb2bgr(vis), osp.join(out_dir, f'{name}_{task}.png'))
        return painted

    def postprocess(self, preds: list, visualization: List[np.ndarray],
                    return_datasamples: bool = False) -> Dict[str, list]:
        """``{'predictions': one dict (or data sample) per image, 'visualization': ...}``."""
        if return_datasamples:
            return dict(predictions=preds, visualization=visualization)
        return dict(predictions=[self._to_dict(p) for p in preds], visualization=visualization)

    def _to_dict(self, pred) -> dict:
        task = pred.metainfo['task']
        out = dict(task=task)
        if 'pred_sem_seg' in pred and task in ('semantic', 'panoptic'):
            out.update(sem_seg=pred.pred_sem_seg.data[0].cpu().numpy().astype(np.int64),
                       classes=self._class_names(pred))
            for key in ('background', 'background_index'):
                if key in pred.metainfo:
                    out[key] = pred.metainfo[key]
        if 'pred_instances' in pred:
            inst = pred.pred_instances
            out.update(masks=inst.masks.cpu().numpy(), labels=inst.labels.cpu().numpy(),
                       scores=inst.scores.cpu().numpy())
            if task in ('instance', 'panoptic'):
                names = self._class_names(pred)
                out['names'] = [names[int(i)] for i in inst.labels.cpu()]
        if 'pred_panoptic_seg' in pred:
            out['panoptic_seg'] = pred.pred_panoptic_seg.sem_seg[0].cpu().numpy()
        if 'pred_caption' in pred:
            out['caption'] = pred.pred_caption
        if 'retrieval_logits' in pred:
            scores = pred.retrieval_logits.cpu().numpy()
            out['scores'] = scores
            if task == 'retrieval':
                out['ranking'] = [pred.metainfo['texts'][i] for i in np.argsort(-scores)]
        if 'pred_answer' in pred:
            out.update(answer=pred.pred_answer, scores=pred.answer_scores.cpu().numpy())
        return out
