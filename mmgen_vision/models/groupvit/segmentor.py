# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Zero-shot semantic segmentation with a trained GroupViT, as an mmseg segmentor.

:class:`GroupViTSegmentor` IS a :class:`GroupViT` (same sub-modules, same state-dict keys) and an
mmseg ``BaseSegmentor`` (mode dispatch, ``postprocess_result``) that slides its windows with
mmseg ``EncoderDecoder.slide_inference``, so ``tools/test.py <zero-shot config> <GroupViT
training checkpoint>`` loads the training checkpoint as it is.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.segmentors import BaseSegmentor, EncoderDecoder
from mmseg.structures import SegDataSample
from torch import Tensor

from mmgen_vision.models.common.batching import BatchInvariantMixin
from mmgen_vision.registry import MODELS
from .groupvit import GroupViT

#: The release renames three PASCAL VOC classes before building their text embeddings.
VOC_RENAME = dict(diningtable='table', pottedplant='plant', tvmonitor='monitor')


@MODELS.register_module()
class GroupViTSegmentor(BatchInvariantMixin, GroupViT, BaseSegmentor):
    """Zero-shot semantic segmentation of the official GroupViT release.

    Inference, per image (or per sliding window):

    1. the soft assignments of all grouping stages are multiplied (``[N_tokens x S_last]``),
       resized bilinearly to the image and turned into a one-hot group map (argmax);
    2. each final segment token is projected and L2-normalised; its class scores are
       ``softmax(s * cos)`` restricted to the ``topk`` classes of the pooled image embedding,
       times the unrestricted softmax;
    3. with a background class, a pixel is background when its best score is below
       ``min(bg_thresh, highest segment score of the window)``;
    4. windows are averaged (``mode='slide'``) and the scores resized to the original image
       size; the prediction is their argmax.

    Class embeddings (mean of the projected prompts over the templates, L2-normalised) are
    computed on the first prediction and cached; :meth:`reset_text_embedding` drops them (the
    cache is dropped as well by ``train()``).

    Args:
        class_names (Sequence[str], optional): Names of the dataset classes, in label order,
            background class included if any. Defaults to ``dataset_meta['classes']``
            (set on the model by whoever builds it) when None.
        templates (Sequence[str]): Prompt templates with one ``{}``. Defaults to
            ``('a photo of a {}.', )`` (the release's ``simple`` template).
        rename (dict, optional): Class name -> the name put in the prompts (e.g.
            :data:`VOC_RENAME`).
        background (str, optional): The class that is background: predicted by the threshold
            rule (``bg_thresh``) and never prompted; it must be one of the class names (at any
            position). ``None``: no background, every class is prompted and the prediction is
            a plain argmax. Defaults to ``'background'``: the class of that name when the list
            has one, else none, so that no class of yours becomes background unasked.
            :attr:`background_rule` says which rule is in use.
        with_bg (bool, optional): Legacy switch of the release: True makes the FIRST class
            background (whatever its name), False is ``background=None``. Defaults to None
            (use ``background``).
        bg_thresh (float): Defaults to 0.95 (the release's VOC / COCO-Object value).
        topk (int): Classes kept per window from the image-level scores. Defaults to 5.
        context_length (int, optional): Tokenizer length; defaults to the text encoder's.
        test_cfg (dict): ``mode`` (``'slide'`` or ``'whole'``), ``crop_size`` and ``stride``
            (int or ``(h, w)``, slide mode; kept as ``(h, w)`` for mmseg's
            ``slide_inference``), ``short_side`` (resize the input so that its
            short side has this length before inference, keeping the ratio; None: as is).
            Defaults to ``dict(mode='whole')``.
        **kwargs: :class:`GroupViT` arguments (``image_encoder``, ``text_encoder``,
            ``output_dim``, ..., ``data_preprocessor``, ``init_cfg``).
    """

    def __init__(self,
                 class_names: Optional[Sequence[str]] = None,
                 templates: Sequence[str] = ('a photo of a {}.', ),
                 rename: Optional[Dict[str, str]] = None,
                 background: Optional[str] = 'background',
                 with_bg: Optional[bool] = None,
                 bg_thresh: float = 0.95,
                 topk: int = 5,
                 context_length: Optional[int] = None,
                 test_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not templates or any('{}' not in t for t in templates):
            raise ValueError(f'every template needs a "{{}}" slot, got {templates!r}')
        self.class_names = None if class_names is None else tuple(class_names)
        self.templates = tuple(templates)
        self.rename = dict(rename or {})
        if background is not None and not isinstance(background, str):
            raise TypeError(f'background must be a class name or None, got {background!r}')
        self.background = background
        self.legacy_with_bg = with_bg
        self.bg_thresh = float(bg_thresh)
        self.topk = int(topk)
        self.context_length = context_length or self.text_encoder.context_length
        self.test_cfg = ConfigDict(mode='whole') if test_cfg is None else ConfigDict(test_cfg)
        if self.test_cfg.get('mode', 'whole') not in ('whole', 'slide'):
            raise ValueError(f"test_cfg.mode must be 'whole' or 'slide', got "
                             f"{self.test_cfg['mode']!r}")
        if self.test_cfg.get('mode') == 'slide':
            for key in ('crop_size', 'stride'):
                if key not in self.test_cfg:
                    raise ValueError(f"test_cfg mode 'slide' needs {key}")
                self.test_cfg[key] = _pair(self.test_cfg[key])
        if self.class_names is not None:
            _ = self.background_index  # refuse a background that is no class now, not at test
        self.align_corners = False
        self._text_embedding: Optional[Tensor] = None
        self._tokenizer = None

    # ------------------------------------------------------------------ text side
    @property
    def all_class_names(self) -> List[str]:
        """The class names in label order (``class_names`` or ``dataset_meta['classes']``)."""
        names = self.class_names
        if names is None:
            meta = getattr(self, 'dataset_meta', None) or {}
            names = meta.get('classes')
        if not names:
            raise RuntimeError('GroupViTSegmentor needs class_names (or dataset_meta with '
                               'classes)')
        return list(names)

    @property
    def background_index(self) -> Optional[int]:
        """Label of the background class (None: no background). See ``background``."""
        names = self.all_class_names
        if self.legacy_with_bg is False:
            return None
        if self.legacy_with_bg:
            if names[0] != 'background' and self.background != names[0]:
                raise ValueError(
                    f'with_bg=True would make the first class {names[0]!r} background (it is '
                    f"never prompted). Say background={names[0]!r} if that is meant, name the "
                    'background class with background=<name>, or set background=None and '
                    'with_bg=None (no background class).')
            return 0
        if self.background is None:
            return None
        if self.background in names:
            return names.index(self.background)
        if self.background == 'background':
            return None  # the default, and the list has no class of that name
        raise ValueError(f'background={self.background!r} is not one of the class names '
                         f'{names}; name one of them, or set background=None')

    @property
    def out_channels(self) -> int:
        """Number of score maps: one per class, background included."""
        return len(self.all_class_names)

    @property
    def with_bg(self) -> bool:
        """Whether a background class is predicted by the threshold rule."""
        return self.background_index is not None

    @property
    def background_rule(self) -> str:
        """The background rule in words (for logs and demos)."""
        index = self.background_index
        if index is None:
            return 'no background class: every class is prompted (plain argmax)'
        return (f'background = class {index} {self.all_class_names[index]!r}: not prompted, '
                f'predicted where the best class score is below min(bg_thresh={self.bg_thresh}, '
                'the best segment score)')

    @property
    def prompt_class_names(self) -> List[str]:
        """The prompted class names (background dropped, renamed)."""
        names = self.all_class_names
        index = self.background_index
        if index is not None:
            names = names[:index] + names[index + 1:]
        return [self.rename.get(n, n).replace('_', ' ') for n in names]

    def tokenize(self, texts: Sequence[str]) -> Tensor:
        if self._tokenizer is None:
            from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer
            self._tokenizer = CLIPTokenizer(context_length=self.context_length, pad_token='zero')
        return self._tokenizer(list(texts))

    def prompt_ids(self) -> Tensor:
        """Token ids ``(N, T, L)`` of every (class, template) prompt."""
        names = self.prompt_class_names
        ids = self.tokenize([t.format(n) for n in names for t in self.templates])
        return ids.reshape(len(names), len(self.templates), -1)

    @torch.no_grad()
    def text_embedding(self) -> Tensor:
        """Cached class embeddings ``(N, D)`` (computed in eval mode on first use)."""
        device = self.logit_scale.device
        if self._text_embedding is None or self._text_embedding.device != device:
            was_training = self.training
            self.eval()
            emb = self.build_text_embedding(self.prompt_ids().to(device))
            self.train(was_training)
            self._text_embedding = emb
        return self._text_embedding

    def reset_text_embedding(self) -> None:
        self._text_embedding = None

    def train(self, mode: bool = True):
        if mode:
            self._text_embedding = None
        return super().train(mode)

    # ------------------------------------------------------------------ image side
    def _resize_short_side(self, inputs: Tensor) -> Tensor:
        short = self.test_cfg.get('short_side')
        if not short:
            return inputs
        h, w = inputs.shape[-2:]
        scale = short / min(h, w)
        size = (max(int(h * scale + 0.5), 1), max(int(w * scale + 0.5), 1))
        if size == (h, w):
            return inputs
        return F.interpolate(inputs, size=size, mode='bilinear', align_corners=False)

    #: ``compile=True`` compiles the scoring of one window (:meth:`window_logits`) instead of
    #: the whole val / test step: the short-side resize and mmseg's sliding-window loop depend
    #: on each image's size (a compiled step recompiled at every batch of the paper's zero-shot
    #: configs), while every window has the crop size (one graph).
    compile_instead = dict(val_step=('window_logits', ), test_step=('window_logits', ))

    def window_logits(self, inputs: Tensor) -> Tensor:
        """Scores ``(B, C, h, w)`` of whole windows (:meth:`GroupViT.seg_logits`)."""
        index = self.background_index
        logits = self.seg_logits(inputs, self.text_embedding(), with_bg=index is not None,
                                 bg_thresh=self.bg_thresh, topk=self.topk)
        if index:  # seg_logits puts background first: move it to its label
            logits = torch.cat([logits[:, 1:index + 1], logits[:, :1], logits[:, index + 1:]],
                               dim=1)
        return logits

    def inference(self, inputs: Tensor, batch_img_metas: Optional[List[dict]] = None) -> Tensor:
        """Scores ``(B, C, H, W)`` at the size of ``inputs``: whole windows
        (:meth:`encode_decode`) or, in slide mode, their average over overlapping
        ``crop_size`` windows (mmseg ``EncoderDecoder.slide_inference``)."""
        size = inputs.shape[-2:]
        self.text_embedding()  # cached here, eagerly: a compiled window_logits finds it ready
        x = self._resize_short_side(inputs)
        if self.test_cfg.get('mode', 'whole') == 'slide':
            metas = [dict(m) for m in batch_img_metas or [dict(img_shape=x.shape[-2:])]]
            logits = EncoderDecoder.slide_inference(self, x, metas)
        else:
            logits = self.encode_decode(x, batch_img_metas)
        if logits.shape[-2:] != size:
            logits = F.interpolate(logits, size=size, mode='bilinear', align_corners=False)
        return logits

    def group_map(self, inputs: Tensor) -> Tensor:
        """Index ``(B, H, W)`` of the final group each pixel is assigned to (whole image)."""
        maps = self.get_attn_maps(inputs, rescale=True)
        return maps[-1].argmax(dim=-1)

    # ------------------------------------------------------------------ BaseSegmentor API
    def extract_feat(self, inputs: Tensor) -> Dict[str, Tensor]:
        return self.image_encoder(inputs)

    def encode_decode(self, inputs: Tensor, batch_img_metas: Optional[List[dict]] = None
                      ) -> Tensor:
        """Scores ``(B, C, h, w)`` of whole windows (:meth:`window_logits`)."""
        # a window of slide mode is a view whose strides follow the image's width: copied,
        # every window has the same layout (a compiled window_logits guards on strides)
        return self.window_logits(inputs.contiguous())

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.inference(inputs)

    def predict(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                ) -> List[SegDataSample]:
        """``SegDataSample`` with ``pred_sem_seg`` and ``seg_logits`` at the original size."""
        if data_samples is not None:
            metas = [s.metainfo for s in data_samples]
        else:
            metas = [dict(ori_shape=inputs.shape[2:], img_shape=inputs.shape[2:],
                          pad_shape=inputs.shape[2:], padding_size=[0, 0, 0, 0])
                     ] * inputs.shape[0]
            data_samples = [SegDataSample(metainfo=m) for m in metas]
        logits = self.inference(inputs, metas)
        return self.postprocess_result(logits, data_samples)

    #: ``'predict'`` / ``'tensor'``: zero-shot segmentation (``SegDataSample`` list / raw
    #: scores); ``'loss'``: the GroupViT image-text losses (:meth:`loss`).
    forward = BaseSegmentor.forward

    def loss(self, inputs: Tensor, data_samples, **kwargs) -> Dict[str, Tensor]:
        """GroupViT's image-text losses (:meth:`GroupViT.forward` in ``'loss'`` mode) of data
        samples carrying ``text_ids``, or :meth:`GroupViT.loss` of text ids ``[B, (1 + K,)
        L]``."""
        if isinstance(data_samples, Tensor):
            return GroupViT.loss(self, inputs, data_samples, **kwargs)
        return GroupViT.forward(self, inputs, data_samples, mode='loss')


def _pair(value: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    return int(value[0]), int(value[1])
