# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder: one model (backbone, pixel decoder, language encoder, generalised decoder) for
open-vocabulary semantic / instance / panoptic segmentation, referring segmentation,
image-text retrieval, captioning, VQA and their compositions (referring captioning, region
retrieval), selected per batch by a ``task`` field."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures.mask import mask2bbox
from mmengine.config import ConfigDict
from mmengine.model import BaseModel
from mmengine.structures import InstanceData, PixelData
from torch import Tensor

from mmgen_vision.models.common.batching import BatchInvariantMixin
from mmgen_vision.registry import MODELS
from .generation import beam_search, greedy_search

TASKS = ('semseg', 'instance', 'panoptic', 'ref-seg', 'retrieval', 'caption', 'vqa',
         'ref-caption', 'region-retrieval')
_ALIASES = {'semantic': 'semseg', 'referring': 'ref-seg', 'refseg': 'ref-seg',
            'grounding': 'ref-seg', 'captioning': 'caption'}

DEFAULT_TEST_CFG = dict(
    mask_thr=0.5, use_thr_for_mc=True, ignore_index=255, max_per_image=100,
    object_mask_thr=0.8, overlap_thr=0.8, caption_steps=50, beam_size=1,
    length_penalty=0., semseg_with_global_query=True)


def resize_to_original(masks: Tensor, meta: dict) -> Tensor:
    """Mask logits ``[N, h, w]`` of the padded batch -> ``[N, H_ori, W_ori]``.

    Bicubic (antialiased) to ``batch_input_shape``, crop to ``img_shape``, bicubic to
    ``ori_shape`` (the release's post-processing).
    """
    pad_h, pad_w = meta.get('batch_input_shape', meta['img_shape'])[:2]
    img_h, img_w = meta['img_shape'][:2]
    ori_h, ori_w = meta.get('ori_shape', meta['img_shape'])[:2]
    if masks.shape[0] == 0:
        return masks.new_zeros(0, ori_h, ori_w)
    x = F.interpolate(masks[None], size=(pad_h, pad_w), mode='bicubic', align_corners=False,
                      antialias=True)[:, :, :img_h, :img_w]
    if (img_h, img_w) != (ori_h, ori_w):
        x = F.interpolate(x, size=(ori_h, ori_w), mode='bicubic', align_corners=False,
                          antialias=True)
    return x[0]


def split_phrases(text: Union[str, Sequence[str]]) -> List[str]:
    """``'a.b'`` or ``['a', 'b']`` -> ``['a', 'b']`` (empty phrases dropped)."""
    phrases = text.split('.') if isinstance(text, str) else list(text)
    phrases = [p.strip() for p in phrases if p and p.strip()]
    if not phrases:
        raise ValueError(f'no phrase in {text!r}')
    return phrases


@MODELS.register_module()
class XDecoder(BatchInvariantMixin, BaseModel):
    """X-Decoder.

    Args:
        backbone (dict): Image encoder config (``FocalNet`` or any mmdet backbone returning
            4 maps, finest first).
        pixel_decoder (dict): ``TransformerEncoderPixelDecoder`` or
            ``mmdet.MSDeformAttnPixelDecoder``.
        decoder (dict): ``XDecoderTransformerDecoder`` config.
        lang_encoder (dict): ``XDecoderLanguageEncoder`` config.
        criterion (dict, optional): Training losses (``XDecoderCriterion``).
        task (str): Default task when a data sample carries none; one of :data:`TASKS`.
        class_names (Sequence[str] | str, optional): Classes of generic segmentation
            (overridden by a data sample's ``classes`` / ``text`` metainfo), or the name of a
            registered dataset whose ``METAINFO`` gives them (``'mmdet.CocoPanopticDataset'``);
            falls back to ``self.dataset_meta['classes']`` when set.
        thing_classes (Sequence[str], optional): Thing classes of panoptic segmentation
            (the others are stuff); overridden by ``thing_classes`` metainfo.
        test_cfg (dict, optional): Post-processing, see :data:`DEFAULT_TEST_CFG`.
        data_preprocessor (dict, optional): e.g. ``mmdet.DetDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, backbone: dict, pixel_decoder: dict, decoder: dict, lang_encoder: dict,
                 criterion: Optional[dict] = None, task: str = 'semseg',
                 class_names: Optional[Sequence[str]] = None,
                 thing_classes: Optional[Sequence[str]] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # ConfigDict: mmdet modules read nested options as attributes
        self.backbone = MODELS.build(ConfigDict(backbone))
        self.pixel_decoder = MODELS.build(ConfigDict(pixel_decoder))
        self.decoder = MODELS.build(ConfigDict(decoder))
        self.lang_encoder = MODELS.build(ConfigDict(lang_encoder))
        self.criterion = MODELS.build(ConfigDict(criterion)) if criterion is not None else None
        self.task = self.check_task(task)
        if isinstance(class_names, str):
            class_names, thing_classes = self.classes_of_dataset(class_names, thing_classes)
        self.class_names = list(class_names) if class_names is not None else None
        self.thing_classes = list(thing_classes) if thing_classes is not None else None
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(DEFAULT_TEST_CFG, **(test_cfg or {}))
        unknown = set(self.test_cfg) - set(DEFAULT_TEST_CFG)
        if unknown:
            raise KeyError(f'XDecoder: unknown test_cfg keys {sorted(unknown)}; valid keys are '
                           f'{sorted(DEFAULT_TEST_CFG)}')
        self._text_cache: Dict[Tuple[str, ...], Tensor] = {}
        # cached class embeddings go stale when new weights are loaded
        self._register_load_state_dict_pre_hook(lambda *args, **kwargs: self._text_cache.clear())

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def classes_of_dataset(name: str, thing_classes=None) -> Tuple[List[str], List[str]]:
        """Class (and thing) names of a registered dataset class, e.g.
        ``'mmdet.CocoPanopticDataset'`` (its ``METAINFO``)."""
        from mmgen_vision.registry import DATASETS
        dataset = DATASETS.get(name)
        if dataset is None or 'classes' not in getattr(dataset, 'METAINFO', {}):
            raise ValueError(f'class_names={name!r} is neither a list of names nor a registered '
                             'dataset with METAINFO["classes"]')
        meta = dataset.METAINFO
        return list(meta['classes']), list(thing_classes or meta.get('thing_classes', ()) or
                                           meta['classes'])

    @staticmethod
    def check_task(task: str) -> str:
        task = _ALIASES.get(task, task)
        if task not in TASKS:
            raise ValueError(f'unknown X-Decoder task {task!r}; choose one of {TASKS}')
        return task

    def _task_of(self, data_samples) -> str:
        tasks = {s.metainfo.get('task', self.task) for s in data_samples or []} or {self.task}
        if len(tasks) > 1:
            raise ValueError(f'a batch mixes X-Decoder tasks {sorted(tasks)}; use one task per '
                             'batch (e.g. one dataloader per source)')
        return self.check_task(tasks.pop())

    def train(self, mode: bool = True) -> 'XDecoder':
        self._text_cache.clear()
        return super().train(mode)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, List[Tensor]]:
        """Images ``[B, 3, H, W]`` -> ``(mask_features [B, C, H/4, W/4], multi-scale maps
        coarsest first)``."""
        feats = self.backbone(inputs)
        feats = list(feats.values()) if isinstance(feats, dict) else list(feats)
        return self.pixel_decoder(feats)

    def class_embeddings(self, class_names: Sequence[str]) -> Tensor:
        """``[K + 1, D]`` text embeddings of the classes and background (cached in eval)."""
        key = tuple(class_names)
        if self.training:
            return self.lang_encoder.encode_class_names(class_names)
        if key not in self._text_cache:
            self._text_cache[key] = self.lang_encoder.encode_class_names(class_names)
        return self._text_cache[key]

    def _class_names(self, sample) -> List[str]:
        meta = sample.metainfo
        names = meta.get('class_names') or meta.get('classes') or self.class_names
        if names is None:
            names = (getattr(self, 'dataset_meta', None) or {}).get('classes')
        if names is None and isinstance(meta.get('text'), str):
            names = split_phrases(meta['text'])
        if names is None:
            raise ValueError('XDecoder needs class names for generic segmentation: set '
                             '`class_names` in the model config or `classes` in the metainfo')
        return list(names)

    def _phrase_tokens(
            self, phrase_lists: Sequence[Sequence[str]]) -> Tuple[Tensor, Tensor, List[Tensor]]:
        """Phrases per image -> padded grounding tokens ``[B, T, D]``, padding ``[B, T]`` and
        pooled phrase embeddings per image ``[P_b, D]``.

        The SOT..EOT tokens of all phrases of an image form one token sequence (release)."""
        flat = [p for phrases in phrase_lists for p in phrases]
        tokens, pooled, mask = self.lang_encoder.encode_texts(flat)
        per_image, pooled_per_image, start = [], [], 0
        for phrases in phrase_lists:
            sl = slice(start, start + len(phrases))
            per_image.append(tokens[sl][mask[sl]])
            pooled_per_image.append(pooled[sl])
            start += len(phrases)
        longest = max(t.shape[0] for t in per_image)
        out = tokens.new_zeros(len(per_image), longest, tokens.shape[-1])
        padding = torch.ones(len(per_image), longest, dtype=torch.bool, device=tokens.device)
        for b, t in enumerate(per_image):
            out[b, :t.shape[0]] = t
            padding[b, :t.shape[0]] = False
        return out, padding, pooled_per_image

    # ----------------------------------------------------------------- forward
    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            mask_features, feats = self.extract_feat(inputs)
            return self.decoder(feats, mask_features)
        raise RuntimeError(f'invalid mode {mode!r}; use "loss", "predict" or "tensor"')

    def decode(self, inputs: Tensor, task: str, **text) -> List[dict]:
        """Run the decoder for ``task`` and return the per-layer predictions in the criterion's
        format (``pred_logits``, ``pred_masks``, ``pred_grd_*``, ``pred_captions``,
        ``image_embeds``, ``text_embeds``, ``logit_scale``).

        Keyword Args:
            class_names (list[str]): Generic segmentation classes.
            phrases (list[list[str]]): Referring phrases per image.
            caption_ids (Tensor): Caption ids ``[B, T]`` (teacher forcing).
            texts (list[str] | Tensor): One caption (or its ids ``[B, L]``) per image
                (retrieval).
        """
        mask_features, feats = self.extract_feat(inputs)
        kwargs, extra = {}, {}
        if text.get('phrases') is not None:
            tokens, padding, pooled = self._phrase_tokens(text['phrases'])
            kwargs.update(grounding_tokens=tokens, grounding_padding=padding)
            extra['phrase_embeds'] = pooled
        if text.get('caption_ids') is not None:
            tokens, _ = self.lang_encoder.encode_ids(text['caption_ids'])
            kwargs['text_tokens'] = tokens
        preds = self.decoder(feats, mask_features, **kwargs)
        class_embeds = None
        if text.get('class_names') is not None:
            class_embeds = self.class_embeddings(text['class_names'])
        text_embeds = text_token_embeds = None
        if isinstance(text.get('texts'), Tensor):
            # token embeddings too: the query-token term of the retrieval loss
            text_token_embeds, text_embeds = self.lang_encoder.encode_ids(text['texts'])
            text_token_mask = self.lang_encoder.valid_mask(text['texts'])
        elif text.get('texts') is not None:
            text_embeds = self.lang_encoder.encode_texts(text['texts'])[1]
        # the vocabulary / phrase logits only where the criterion uses them (the last
        # ``num_semantic_predictions``) while training; everywhere at test time
        num_semantic = len(preds)
        if self.training and self.criterion is not None:
            num_semantic = getattr(self.criterion, 'num_semantic_predictions', len(preds))
        outputs = []
        for index, pred in enumerate(preds):
            semantic = index >= len(preds) - num_semantic
            out = dict(pred_masks=pred['masks'], image_embeds=pred['class_embeds'][:, -1],
                       class_embeds=pred['class_embeds'],
                       logit_scale=self.lang_encoder.logit_scale)
            if class_embeds is not None:
                out['pred_logits'] = self.lang_encoder.compute_similarity(
                    pred['class_embeds'], class_embeds)
            if 'grd_class_embeds' in pred and semantic:
                phrase_embeds = extra['phrase_embeds']
                longest = max(p.shape[0] for p in phrase_embeds)
                logits = pred['grd_class_embeds'].new_zeros(
                    *pred['grd_class_embeds'].shape[:2], longest)
                for b, p in enumerate(phrase_embeds):
                    logits[b, :, :p.shape[0]] = self.lang_encoder.vl_similarity(
                        pred['grd_class_embeds'][b], p)
                out.update(pred_grd_logits=logits, pred_grd_masks=pred['grd_masks'],
                           grd_class_embeds=pred['grd_class_embeds'])
            if 'text_embeds' in pred and semantic:
                out['pred_captions'] = pred['text_embeds'] @ self.lang_encoder.token_embedding.t()
                out['query_text_embeds'] = pred['text_embeds']
            if text_embeds is not None:
                out['text_embeds'] = text_embeds
            if text_token_embeds is not None and semantic:
                out.update(text_token_embeds=text_token_embeds, text_token_mask=text_token_mask)
            outputs.append(out)
        return outputs

    # -------------------------------------------------------------------- loss
    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """Losses through the criterion (``XDecoderCriterion``).

        A batch may join several sources (multi-source ``'joint'`` batches): the samples are
        grouped by ``task``, each group is cropped back to its own padded size and run on its
        own; the loss names of a mixed batch are prefixed with the task.

        Generic segmentation reads ``gt_instances`` (labels, masks) and the class names of the
        config; referring ``gt_instances.masks`` (one per phrase) and ``text``; captioning /
        retrieval ``caption_tokens`` + ``caption_mask`` (else ``text``).
        """
        if self.criterion is None:
            raise RuntimeError('XDecoder.loss needs a `criterion` in the model config')
        groups: Dict[str, List[int]] = {}
        for i, sample in enumerate(data_samples):
            task = self.check_task(sample.metainfo.get('task', self.task))
            groups.setdefault(task, []).append(i)
        losses = {}
        for task, index in groups.items():
            samples = [data_samples[i] for i in index]
            group = inputs[index] if len(groups) > 1 else inputs
            if len(groups) > 1:
                group = self._crop_to_group(group, samples)
            task_losses = self._task_loss(group, samples, task)
            prefix = f'{task}.' if len(groups) > 1 else ''
            losses.update({prefix + k: v for k, v in task_losses.items()})
        return losses

    def _crop_to_group(self, inputs: Tensor, samples) -> Tensor:
        """Drop the padding a group got from other sources' larger images."""
        divisor = getattr(self.data_preprocessor, 'pad_size_divisor', 1) or 1
        h = max(s.metainfo['img_shape'][0] for s in samples)
        w = max(s.metainfo['img_shape'][1] for s in samples)
        h, w = -(-h // divisor) * divisor, -(-w // divisor) * divisor
        for s in samples:
            s.set_metainfo(dict(batch_input_shape=(h, w), pad_shape=(h, w)))
        return inputs[..., :h, :w]

    def _task_loss(self, inputs: Tensor, data_samples, task: str) -> Dict[str, Tensor]:
        pad_shape = inputs.shape[-2:]
        targets = [dict() for _ in data_samples]
        text = {}
        if task in ('semseg', 'instance', 'panoptic'):
            names = self._class_names(data_samples[0])
            text['class_names'] = names
            things = set(data_samples[0].metainfo.get('thing_classes') or self.thing_classes
                         or names)
            stuff = [i for i, n in enumerate(names) if n not in things]
            for target, sample in zip(targets, data_samples):
                labels, masks = self._generic_targets(sample, pad_shape, stuff)
                target.update(labels=labels, masks=masks)
            keep = ('pred_logits', 'pred_masks')
        elif task == 'ref-seg':
            text['phrases'] = [split_phrases(s.metainfo['text']) for s in data_samples]
            for target, phrases, sample in zip(targets, text['phrases'], data_samples):
                target['grd_masks'] = self._gt_masks(sample, pad_shape)
                if target['grd_masks'].shape[0] != len(phrases):
                    raise ValueError(
                        f'{sample.metainfo.get("img_path", "a sample")}: {len(phrases)} phrases '
                        f'but {target["grd_masks"].shape[0]} referred masks')
            keep = ('pred_grd_logits', 'pred_grd_masks')
        elif task in ('caption', 'retrieval'):
            ids, mask = self._caption_targets(data_samples)
            length = int(mask.sum(1).max())  # drop the all-padding tail (causal encoder)
            text['texts'] = ids[:, :length]
            if task == 'caption':
                text['caption_ids'] = ids[:, :length]
                for b, target in enumerate(targets):
                    target.update(caption_tokens=ids[b, :length], caption_mask=mask[b, :length])
            keep = ('pred_captions', 'image_embeds', 'text_embeds', 'class_embeds',
                    'text_token_embeds', 'text_token_mask')
        else:
            raise ValueError(f'XDecoder cannot train task {task!r}')
        outputs = self.decode(inputs, task, **text)
        outputs = [{k: v for k, v in out.items() if k in keep or k == 'logit_scale'}
                   for out in outputs]
        return self.criterion(outputs, targets)

    def _caption_targets(self, data_samples) -> Tuple[Tensor, Tensor]:
        """Caption ids ``[B, L]`` and validity masks: the packed ``caption_tokens`` /
        ``caption_mask`` when present, else the tokenized ``text`` metainfo."""
        if all('caption_tokens' in s for s in data_samples):
            ids = torch.stack([s.caption_tokens for s in data_samples]).long()
            mask = torch.stack([s.caption_mask for s in data_samples]).bool()
            return ids.to(self.lang_encoder.lang_proj.device), mask.to(ids.device)
        captions = []
        for s in data_samples:
            if 'text' not in s.metainfo:
                raise KeyError(f'{s.metainfo.get("img_path", "a sample")} has neither '
                               'caption_tokens nor a `text` caption')
            caption = s.metainfo['text']
            captions.append(caption if isinstance(caption, str) else caption[0])
        return self.lang_encoder.tokenize(captions)

    def _generic_targets(self, sample, pad_shape, stuff: Sequence[int]) -> Tuple[Tensor, Tensor]:
        """Thing instances from ``gt_instances`` plus one mask per stuff class present in
        ``gt_sem_seg`` (mmdet's panoptic loading keeps stuff only in the semantic map)."""
        masks = self._gt_masks(sample, pad_shape)
        labels = sample.gt_instances.labels.long()
        if stuff and 'gt_sem_seg' in sample:
            seg = sample.gt_sem_seg
            seg = (seg.sem_seg if 'sem_seg' in seg else seg.data)[0].to(masks.device)
            canvas = torch.full(tuple(pad_shape), 255, dtype=seg.dtype, device=seg.device)
            h, w = min(seg.shape[0], pad_shape[0]), min(seg.shape[1], pad_shape[1])
            canvas[:h, :w] = seg[:h, :w]
            extra = [c for c in stuff if bool((canvas == c).any())]
            if extra:
                masks = torch.cat([masks, torch.stack([canvas == c for c in extra])])
                labels = torch.cat([labels, labels.new_tensor(extra)])
        return labels, masks

    @staticmethod
    def _gt_masks(sample, pad_shape) -> Tensor:
        """``gt_instances.masks`` (BitmapMasks or tensor) as bool ``[N, H_pad, W_pad]``."""
        if 'gt_instances' not in sample or 'masks' not in sample.gt_instances:
            raise KeyError(f'{sample.metainfo.get("img_path", "a sample")} has no '
                           'gt_instances.masks (load them with with_mask=True)')
        masks = sample.gt_instances.masks
        masks = masks.to_tensor(torch.bool, sample.gt_instances.labels.device) \
            if hasattr(masks, 'to_tensor') else masks.bool()
        out = masks.new_zeros(masks.shape[0], *pad_shape)
        h, w = min(masks.shape[1], pad_shape[0]), min(masks.shape[2], pad_shape[1])
        out[:, :h, :w] = masks[:, :h, :w]
        return out

    # ----------------------------------------------------------------- predict
    def predict(self, inputs: Tensor, data_samples) -> list:
        """Predict the task of the batch; results are written into the data samples:

        ``semseg`` -> ``pred_sem_seg`` / ``seg_logits``; ``instance`` -> ``pred_instances``;
        ``panoptic`` -> ``pred_panoptic_seg``; ``ref-seg`` -> ``pred_instances`` (one mask per
        phrase) and ``pred_sem_seg`` (1 = referred); ``retrieval`` -> ``image_embeds``,
        ``text_embeds`` and ``retrieval_logits``; ``caption`` -> ``pred_caption``; ``vqa`` ->
        ``pred_answer``; ``ref-caption`` -> ``pred_caption`` of the referred region;
        ``region-retrieval`` -> ``retrieval_logits`` plus the referring masks.
        """
        task = self._task_of(data_samples)
        handler = {
            'semseg': self._predict_generic, 'instance': self._predict_generic,
            'panoptic': self._predict_generic, 'ref-seg': self._predict_referring,
            'retrieval': self._predict_retrieval, 'caption': self._predict_caption,
            'vqa': self._predict_vqa, 'ref-caption': self._predict_referring_caption,
            'region-retrieval': self._predict_region_retrieval}[task]
        return handler(inputs, data_samples, task)

    def _predict_generic(self, inputs, data_samples, task):
        names = self._class_names(data_samples[0])
        out = self.decode(inputs, task, class_names=names)[-1]
        for b, sample in enumerate(data_samples):
            logits, masks = out['pred_logits'][b], out['pred_masks'][b]
            if task in ('semseg', 'panoptic'):
                self.semantic_inference(logits, masks, sample)
                self._alias_gt_sem_seg(sample)
            if task in ('instance', 'panoptic'):
                self.instance_inference(logits[:-1], masks[:-1], sample)
            if task == 'panoptic':
                self.panoptic_inference(logits[:-1], masks[:-1], sample, names)
        return data_samples

    @staticmethod
    def _alias_gt_sem_seg(sample) -> None:
        """mmdet packs the semantic ground truth as ``gt_sem_seg.sem_seg``, mmseg's IoUMetric
        reads ``gt_sem_seg.data``: give it both names so the stock metrics of both run on the
        same predictions."""
        gt = sample.get('gt_sem_seg')
        if gt is not None and 'sem_seg' in gt and 'data' not in gt:
            gt.set_data(dict(data=gt.sem_seg))

    def semantic_inference(self, logits: Tensor, masks: Tensor, sample) -> None:
        """``prob[c] = sum_q softmax(logits_q)[c] * sigmoid(mask_q)`` (background column
        dropped after the softmax); label = argmax, ``ignore_index`` where no class exceeds
        ``mask_thr`` (``use_thr_for_mc``)."""
        cfg = self.test_cfg
        if not cfg['semseg_with_global_query']:
            logits, masks = logits[:-1], masks[:-1]
        masks = resize_to_original(masks, sample.metainfo)
        prob = torch.einsum('qc,qhw->chw', logits.softmax(-1)[:, :-1], masks.sigmoid())
        label = prob.argmax(0)
        if cfg['use_thr_for_mc']:
            label[prob.max(0).values <= cfg['mask_thr']] = cfg['ignore_index']
        sample.seg_logits = PixelData(data=prob)
        sample.pred_sem_seg = PixelData(data=label[None])

    def instance_inference(self, logits: Tensor, masks: Tensor, sample) -> None:
        """Top-``max_per_image`` (query, class) pairs scored by class probability x mean mask
        probability inside the mask -> ``pred_instances`` (masks, labels, scores, bboxes)."""
        num_classes = logits.shape[-1] - 1
        scores = logits.softmax(-1)[:, :-1]
        k = min(self.test_cfg['max_per_image'], scores.numel())
        top, index = scores.flatten().topk(k)
        labels, query = index % num_classes, index // num_classes
        mask_pred = resize_to_original(masks[query], sample.metainfo)
        binary = mask_pred > 0
        mask_score = (mask_pred.sigmoid() * binary).flatten(1).sum(1) / (
            binary.flatten(1).sum(1) + 1e-6)
        result = InstanceData()
        result.masks = binary
        result.labels = labels
        result.scores = top * mask_score
        result.bboxes = mask2bbox(binary)
        sample.pred_instances = result

    def panoptic_inference(self, logits: Tensor, masks: Tensor, sample,
                           names: Sequence[str]) -> None:
        """MaskFormer panoptic merge -> ``pred_panoptic_seg`` (``label + id * INSTANCE_OFFSET``
        for things, ``label`` for stuff, ``num_classes`` for void)."""
        cfg = self.test_cfg
        things = sample.metainfo.get('thing_classes') or self.thing_classes or names
        is_thing = torch.tensor([n in set(things) for n in names], device=logits.device)
        num_classes = len(names)
        scores, labels = logits.softmax(-1).max(-1)
        keep = (labels != num_classes) & (scores > cfg['object_mask_thr'])
        mask_pred = resize_to_original(masks[keep], sample.metainfo).sigmoid()
        scores, labels = scores[keep], labels[keep]
        h, w = mask_pred.shape[-2:]
        panoptic = torch.full((h, w), num_classes, dtype=torch.long, device=logits.device)
        if len(scores):
            owner = (scores[:, None, None] * mask_pred).argmax(0)
            instance_id, stuff_done = 1, {}
            for k in range(len(scores)):
                label = int(labels[k])
                region = (owner == k) & (mask_pred[k] >= 0.5)
                area, original = region.sum().item(), (mask_pred[k] >= 0.5).sum().item()
                if area == 0 or original == 0 or area / original < cfg['overlap_thr']:
                    continue
                if bool(is_thing[label]):
                    panoptic[region] = label + instance_id * INSTANCE_OFFSET
                    instance_id += 1
                else:
                    stuff_done.setdefault(label, True)
                    panoptic[region] = label
        sample.pred_panoptic_seg = PixelData(sem_seg=panoptic[None])

    def _referring(self, inputs, data_samples, task) -> Tuple[List[dict], dict]:
        phrases = [split_phrases(s.metainfo['text']) for s in data_samples]
        out = self.decode(inputs, task, phrases=phrases)[-1]
        results = []
        for b, sample in enumerate(data_samples):
            num = len(phrases[b])
            prob = out['pred_grd_logits'][b, :, :num]
            matched = prob.argmax(dim=0)
            pred_logits = prob[matched]
            mask_pred = resize_to_original(out['pred_grd_masks'][b, matched], sample.metainfo)
            binary = mask_pred.sigmoid() > self.test_cfg['mask_thr']
            fg = (mask_pred > 0).float()
            mask_score = (mask_pred.sigmoid() * fg).flatten(1).sum(1) / (
                fg.flatten(1).sum(1) + 1e-6)
            results.append(dict(
                mask_pred=mask_pred, masks=binary, pred_logits=pred_logits,
                scores=pred_logits.softmax(-1).max(-1).values * mask_score,
                query=matched, low_res=out['pred_grd_masks'][b, matched]))
        return results, out

    def _predict_referring(self, inputs, data_samples, task):
        results, _ = self._referring(inputs, data_samples, task)
        for sample, res in zip(data_samples, results):
            self._write_referring(sample, res)
        return data_samples

    @staticmethod
    def _write_referring(sample, res: dict) -> None:
        inst = InstanceData()
        inst.masks = res['masks']
        inst.labels = torch.arange(len(res['masks']), device=res['masks'].device)
        inst.scores = res['scores']
        inst.bboxes = mask2bbox(res['masks'])
        sample.pred_instances = inst
        sample.pred_sem_seg = PixelData(data=res['masks'][:1].long())

    def _predict_retrieval(self, inputs, data_samples, task):
        out = self.decode(inputs, task)[-1]
        for b, sample in enumerate(data_samples):
            meta = sample.metainfo
            texts = meta.get('texts', meta.get('captions', meta.get('text')))
            sample.image_embeds = out['image_embeds'][b]
            if texts is not None:
                texts = [texts] if isinstance(texts, str) else list(texts)
                text_embeds = self.lang_encoder.encode_texts(texts)[1]
                sample.text_embeds = text_embeds
                sample.retrieval_logits = self.lang_encoder.vl_similarity(
                    out['image_embeds'][b:b + 1], text_embeds)[0]
        return data_samples

    # -------------------------------------------------------------- captioning
    def _caption_step_fn(self, mask_features: Tensor, feats: List[Tensor],
                         region: Optional[Tensor] = None):
        """``ids [N, s] -> logits [N, V]`` of position ``s - 1`` (N = B x beams)."""

        def step(ids: Tensor) -> Tensor:
            repeat = ids.shape[0] // mask_features.shape[0]
            mf = mask_features.repeat_interleave(repeat, 0)
            fs = [f.repeat_interleave(repeat, 0) for f in feats]
            tokens, _ = self.lang_encoder.encode_ids(ids)
            reg = region.repeat_interleave(repeat, 0) if region is not None else None
            pred = self.decoder(fs, mf, text_tokens=tokens, text_region=reg)[-1]
            return pred['text_embeds'][:, -1] @ self.lang_encoder.token_embedding.t()

        return step

    def generate_captions(self, inputs: Tensor, region: Optional[Tensor] = None) -> Tensor:
        """Generate caption ids ``[B, <= 1 + caption_steps]`` (start token first); greedy when
        ``test_cfg.beam_size == 1``, else beam search."""
        mask_features, feats = self.extract_feat(inputs)
        tok = self.lang_encoder.tokenizer
        start = torch.full((inputs.shape[0], 1), tok.sot_token_id, dtype=torch.long,
                           device=inputs.device)
        steps = min(self.test_cfg['caption_steps'], self.lang_encoder.context_length - 1)
        step_fn = self._caption_step_fn(mask_features, feats, region)
        if self.test_cfg['beam_size'] <= 1:
            return greedy_search(step_fn, start, steps, tok.eot_token_id)
        seqs, _ = beam_search(lambda ids: step_fn(ids).log_softmax(-1), start, steps,
                              tok.eot_token_id, self.test_cfg['beam_size'],
                              self.test_cfg['length_penalty'])
        longest = max(len(s) for s in seqs)
        out = start.new_full((len(seqs), longest), tok.eot_token_id)
        for b, s in enumerate(seqs):
            out[b, :len(s)] = s
        return out

    def _predict_caption(self, inputs, data_samples, task, region=None):
        """Captions (``pred_caption``); with reference ``captions`` / ``texts`` in the
        metainfo also the retrieval embeddings, so that captioning and retrieval metrics
        evaluate the same run."""
        ids = self.generate_captions(inputs, region)
        for b, sample in enumerate(data_samples):
            sample.pred_caption_ids = ids[b]
            sample.pred_caption = self.lang_encoder.tokenizer.decode(ids[b])
        if region is None and any('captions' in s.metainfo or 'texts' in s.metainfo
                                  for s in data_samples):
            self._predict_retrieval(inputs, data_samples, 'retrieval')
        return data_samples

    def _predict_vqa(self, inputs, data_samples, task):
        """Question tokens are bidirectional text queries; the answer is the candidate whose
        embedding is most similar to the semantic output of the question's last token."""
        mask_features, feats = self.extract_feat(inputs)
        questions = [s.metainfo['question'] for s in data_samples]
        tokens, _, mask = self.lang_encoder.encode_texts(questions)
        pred = self.decoder(feats, mask_features, text_tokens=tokens, causal=False)[-1]
        last = mask.long().sum(1) - 1
        answer_embeds = pred['text_embeds'][torch.arange(len(last)), last]
        for b, sample in enumerate(data_samples):
            candidates = list(sample.metainfo['answer_candidates'])
            cand = self.lang_encoder.encode_texts(candidates)[1]
            scores = self.lang_encoder.vl_similarity(answer_embeds[b:b + 1], cand)[0]
            sample.answer_scores = scores
            sample.pred_answer = candidates[int(scores.argmax())]
        return data_samples

    def _predict_referring_caption(self, inputs, data_samples, task):
        """Referring captioning: segment the phrase, then caption with the caption tokens'
        cross-attention restricted to the referred region."""
        results, _ = self._referring(inputs, data_samples, 'ref-seg')
        region = torch.stack([r['low_res'][0] > 0 for r in results])
        self._predict_caption(inputs, data_samples, 'caption', region=region)
        for sample, res in zip(data_samples, results):
            self._write_referring(sample, res)
        return data_samples

    def _predict_region_retrieval(self, inputs, data_samples, task):
        """Region retrieval: score every image of the batch against the query text (global
        query) and localise the text in each image (referring segmentation)."""
        self._predict_referring(inputs, data_samples, 'ref-seg')
        out = self.decode(inputs, 'retrieval')[-1]
        for b, sample in enumerate(data_samples):
            text = ' '.join(split_phrases(sample.metainfo['text']))
            text_embeds = self.lang_encoder.encode_texts([text])[1]
            sample.image_embeds = out['image_embeds'][b]
            sample.retrieval_logits = self.lang_encoder.vl_similarity(
                out['image_embeds'][b:b + 1], text_embeds)[0]
        return data_samples
