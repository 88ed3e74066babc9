# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder head: the decoder's embeddings -> every task's outputs, the targets of a batch
and the training losses (``XDecoderCriterion``).

Like the heads of mmdet's DETR family (``DeformableDETRHead``: the detector runs the
transformer, the head owns the outputs, targets and losses), the head has no parameters of its
own: the transformer decoder (``decoder.*``) and the language encoder (``lang_encoder.*``)
keep the state-dict keys of the converted release checkpoints, and the head reads the
language space (class / phrase / caption embeddings, ``logit_scale``) from the language
encoder passed to it.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import ConfigDict
from mmengine.model import BaseModule
from torch import Tensor

from mmgen_vision.registry import MODELS

#: Prediction keys each trainable task hands to the criterion (plus ``logit_scale``).
LOSS_KEYS = {
    'semantic': ('pred_logits', 'pred_masks'),
    'instance': ('pred_logits', 'pred_masks'),
    'panoptic': ('pred_logits', 'pred_masks'),
    'referring': ('pred_grd_logits', 'pred_grd_masks'),
    'caption': ('pred_captions', 'query_text_embeds', 'caption_weight', 'image_embeds',
                'text_embeds', 'class_embeds', 'text_token_embeds', 'text_token_mask'),
    'retrieval': ('pred_captions', 'query_text_embeds', 'caption_weight', 'image_embeds',
                  'text_embeds', 'class_embeds', 'text_token_embeds', 'text_token_mask'),
}


def split_phrases(text: Union[str, Sequence[str]]) -> List[str]:
    """``'a.b'`` or ``['a', 'b']`` -> ``['a', 'b']`` (empty phrases dropped)."""
    phrases = text.split('.') if isinstance(text, str) else list(text)
    phrases = [p.strip() for p in phrases if p and p.strip()]
    if not phrases:
        raise ValueError(f'no phrase in {text!r}')
    return phrases


@MODELS.register_module()
class XDecoderHead(BaseModule):
    """Task outputs, targets and losses of X-Decoder.

    Args:
        criterion (dict, optional): Training losses (``XDecoderCriterion``); None for a
            test-only model.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, criterion: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.criterion = MODELS.build(ConfigDict(criterion)) if criterion is not None else None

    # ------------------------------------------------------------ task outputs
    @torch.compiler.disable  # per-task keys, per-image phrase counts: eager under compile
    def task_outputs(self, preds: List[dict], lang_encoder,
                     class_embeds: Optional[Tensor] = None,
                     phrase_embeds: Optional[List[Tensor]] = None,
                     text_embeds: Optional[Tensor] = None,
                     text_token_embeds: Optional[Tensor] = None,
                     text_token_mask: Optional[Tensor] = None) -> List[dict]:
        """Per-layer decoder predictions -> the criterion's format.

        Args:
            preds (list[dict]): ``XDecoderTransformerDecoder`` outputs (``class_embeds
                (B, Q, D)``, ``masks (B, Q, h, w)``, optional ``grd_class_embeds
                (B, Qg, D)``, ``grd_masks``, ``text_embeds (B, T, D)``).
            lang_encoder (XDecoderLanguageEncoder): The language space.
            class_embeds (Tensor, optional): ``(K + 1, D)`` class embeddings (background
                last) -> ``pred_logits (B, Q, K + 1)``.
            phrase_embeds (list[Tensor], optional): ``(P_b, D)`` per image ->
                ``pred_grd_logits (B, Qg, max P_b)`` (zero-padded).
            text_embeds (Tensor, optional): ``(B, D)`` pooled captions (retrieval).
            text_token_embeds (Tensor, optional): ``(B, T, D)`` their token embeddings.
            text_token_mask (Tensor, optional): ``(B, T)`` bool, valid tokens.

        Returns:
            list[dict]: one per prediction with ``pred_masks``, ``image_embeds (B, D)``
            (global query), ``class_embeds``, ``logit_scale`` and, when given,
            ``pred_logits``; ``pred_grd_logits`` / ``pred_grd_masks`` /
            ``grd_class_embeds``; ``query_text_embeds (B, T, D)`` with ``pred_captions
            (B, T, V)`` (while training ``caption_weight (V, D)``, the tied token embedding,
            instead: the criterion computes the logits at the caption's tokens only, not at
            its padding); ``text_embeds``; ``text_token_embeds`` / ``text_token_mask``. While
            training, the semantic outputs only on the criterion's last
            ``num_semantic_predictions``.
        """
        num_semantic = len(preds)
        training = self.training and self.criterion is not None
        if training:
            num_semantic = getattr(self.criterion, 'num_semantic_predictions', len(preds))
        outputs = []
        for index, pred in enumerate(preds):
            semantic = index >= len(preds) - num_semantic
            out = dict(pred_masks=pred['masks'], image_embeds=pred['class_embeds'][:, -1],
                       class_embeds=pred['class_embeds'], logit_scale=lang_encoder.logit_scale)
            if class_embeds is not None:
                out['pred_logits'] = lang_encoder.compute_similarity(pred['class_embeds'],
                                                                     class_embeds)
            if 'grd_class_embeds' in pred and semantic:
                grd = pred['grd_class_embeds']
                logits = grd.new_zeros(*grd.shape[:2], max(p.shape[0] for p in phrase_embeds))
                for b, p in enumerate(phrase_embeds):
                    logits[b, :, :p.shape[0]] = lang_encoder.vl_similarity(grd[b], p)
                out.update(pred_grd_logits=logits, pred_grd_masks=pred['grd_masks'],
                           grd_class_embeds=grd)
            if 'text_embeds' in pred and semantic:
                out['query_text_embeds'] = pred['text_embeds']
                if training:  # the criterion takes the logits at the valid tokens only
                    out['caption_weight'] = lang_encoder.token_embedding
                else:
                    out['pred_captions'] = (
                        pred['text_embeds'] @ lang_encoder.token_embedding.t())
            if text_embeds is not None:
                out['text_embeds'] = text_embeds
            if text_token_embeds is not None and semantic:
                out.update(text_token_embeds=text_token_embeds, text_token_mask=text_token_mask)
            outputs.append(out)
        return outputs

    # ----------------------------------------------------------------- targets
    @torch.compiler.disable  # per-image targets of varying number and size: eager
    def get_targets(self, data_samples, task: str, pad_shape: Sequence[int],
                    class_names: Sequence[str], thing_classes: Sequence[str],
                    lang_encoder) -> Tuple[List[dict], dict]:
        """Targets of a one-task batch and the text inputs the decoder needs for them.

        Generic segmentation reads ``gt_instances`` (labels, masks) and the stuff classes of
        ``gt_sem_seg``; referring ``gt_instances.masks`` (one per phrase of the ``text``
        metainfo); captioning / retrieval ``caption_tokens`` + ``caption_mask`` (else the
        ``text`` caption).

        Returns:
            tuple: per-image target dicts (see ``XDecoderCriterion``) and the keyword
            arguments of ``XDecoder.decode`` (``class_names`` / ``phrases`` / ``texts`` and
            ``caption_ids``).
        """
        targets = [dict() for _ in data_samples]
        text = {}
        if task in ('semantic', 'instance', 'panoptic'):
            text['class_names'] = class_names
            stuff = [i for i, n in enumerate(class_names) if n not in set(thing_classes)]
            for target, sample in zip(targets, data_samples):
                labels, masks = self.generic_targets(sample, pad_shape, stuff)
                target.update(labels=labels, masks=masks)
        elif task == 'referring':
            text['phrases'] = [split_phrases(s.metainfo['text']) for s in data_samples]
            for target, phrases, sample in zip(targets, text['phrases'], data_samples):
                target['grd_masks'] = self.gt_masks(sample, pad_shape)
                if target['grd_masks'].shape[0] != len(phrases):
                    raise ValueError(
                        f'{sample.metainfo.get("img_path", "a sample")}: {len(phrases)} phrases '
                        f'but {target["grd_masks"].shape[0]} referred masks')
        elif task in ('caption', 'retrieval'):
            ids, mask = self.caption_targets(data_samples, lang_encoder)
            length = int(mask.sum(1).max())  # drop the all-padding tail (causal encoder)
            text['texts'] = ids[:, :length]
            if task == 'caption':
                text['caption_ids'] = ids[:, :length]
                for b, target in enumerate(targets):
                    target.update(caption_tokens=ids[b, :length], caption_mask=mask[b, :length])
        else:
            raise ValueError(f'XDecoder cannot train task {task!r}')
        return targets, text

    @staticmethod
    def caption_targets(data_samples, lang_encoder) -> Tuple[Tensor, Tensor]:
        """Caption ids ``(B, L)`` and validity masks: the packed ``caption_tokens`` /
        ``caption_mask`` when present, else the tokenized ``text`` metainfo."""
        if all('caption_tokens' in s for s in data_samples):
            ids = torch.stack([s.caption_tokens for s in data_samples]).long()
            mask = torch.stack([s.caption_mask for s in data_samples]).bool()
            return ids.to(lang_encoder.lang_proj.device), mask.to(lang_encoder.lang_proj.device)
        captions = []
        for s in data_samples:
            if 'text' not in s.metainfo:
                raise KeyError(f'{s.metainfo.get("img_path", "a sample")} has neither '
                               'caption_tokens nor a `text` caption')
            caption = s.metainfo['text']
            captions.append(caption if isinstance(caption, str) else caption[0])
        return lang_encoder.tokenize(captions)

    @classmethod
    def generic_targets(cls, sample, pad_shape: Sequence[int],
                        stuff: Sequence[int]) -> Tuple[Tensor, Tensor]:
        """Thing instances from ``gt_instances`` plus one mask per stuff class present in
        ``gt_sem_seg`` (mmdet's panoptic loading keeps stuff only in the semantic map).

        Returns:
            tuple: labels ``[N]`` and bool masks ``(N, H_pad, W_pad)``.
        """
        masks = cls.gt_masks(sample, pad_shape)
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
    def gt_masks(sample, pad_shape: Sequence[int]) -> Tensor:
        """``gt_instances.masks`` (BitmapMasks or tensor) as bool ``(N, H_pad, W_pad)``."""
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

    # -------------------------------------------------------------------- loss
    @torch.compiler.disable  # matching, per-target losses of varying shapes: eager
    def loss_by_feat(self, outputs: List[dict], targets: List[dict],
                     task: str) -> Dict[str, Tensor]:
        """Losses of one task (:meth:`task_outputs` + :meth:`get_targets`) through the
        criterion; only the task's prediction keys (:data:`LOSS_KEYS`) reach it."""
        if self.criterion is None:
            raise RuntimeError('XDecoder.loss needs a `criterion` in the model config')
        keep = set(LOSS_KEYS[task]) | {'logit_scale'}
        return self.criterion([{k: v for k, v in out.items() if k in keep} for out in outputs],
                              targets)
