# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder: one model (backbone, pixel decoder, language encoder, generalised decoder) for
open-vocabulary semantic / instance / panoptic segmentation, referring segmentation,
image-text retrieval, captioning, VQA and their compositions (referring captioning, region
retrieval), selected per batch by a ``task`` field.

The model keeps the data flow (image and text encoders, the transformer decoder, caption
generation) and the task dispatch; :class:`XDecoderHead` owns the task outputs, targets and
losses, :class:`XDecoderFusionHead` the post-processing (as Mask2Former's
``panoptic_head`` / ``panoptic_fusion_head`` in mmdet)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import ConfigDict
from mmengine.model import BaseModel
from torch import Tensor

from mmgen_vision.models.common.batching import BatchInvariantMixin
from mmgen_vision.registry import MODELS
from mmgen_vision.utils.compile import mark_dynamic
from mmgen_vision.utils.deprecation import canonical_task
from .fusion_head import DEFAULT_TEST_CFG
from .generation import beam_search, greedy_search
from .xdecoder_head import split_phrases

TASKS = ('semantic', 'instance', 'panoptic', 'referring', 'retrieval', 'caption', 'vqa',
         'ref-caption', 'region-retrieval')


@MODELS.register_module()
class XDecoder(BatchInvariantMixin, BaseModel):
    """X-Decoder.

    Args:
        backbone (dict): Image encoder config (``FocalNet`` or any mmdet backbone returning
            4 maps, finest first).
        pixel_decoder (dict): ``XDecoderPixelDecoder`` or ``mmdet.MSDeformAttnPixelDecoder``.
        decoder (dict): ``XDecoderTransformerDecoder`` config.
        lang_encoder (dict): ``XDecoderLanguageEncoder`` config.
        criterion (dict, optional): Training losses (``XDecoderCriterion``), handed to the
            head.
        task (str): Default task when a data sample carries none; one of :data:`TASKS`
            (older spellings such as ``'semseg'`` / ``'ref-seg'`` are mapped with a warning,
            :func:`~mmgen_vision.utils.canonical_task`). Defaults to ``'semantic'``.
        class_names (Sequence[str] | str, optional): Classes of generic segmentation
            (overridden by a data sample's ``classes`` / ``text`` metainfo), or the name of a
            registered dataset whose ``METAINFO`` gives them (``'mmdet.CocoPanopticDataset'``);
            falls back to ``self.dataset_meta['classes']`` when set.
        thing_classes (Sequence[str], optional): Thing classes of panoptic segmentation
            (the others are stuff); overridden by ``thing_classes`` metainfo.
        test_cfg (dict, optional): Post-processing and captioning, see
            :data:`~.fusion_head.DEFAULT_TEST_CFG`; shared with the fusion head.
        head (dict, optional): Head config. Defaults to ``XDecoderHead``.
        fusion_head (dict, optional): Post-processing config. Defaults to
            ``XDecoderFusionHead``.
        data_preprocessor (dict, optional): e.g. ``mmdet.DetDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, backbone: dict, pixel_decoder: dict, decoder: dict, lang_encoder: dict,
                 criterion: Optional[dict] = None, task: str = 'semantic',
                 class_names: Optional[Sequence[str]] = None,
                 thing_classes: Optional[Sequence[str]] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, head: Optional[dict] = None,
                 fusion_head: Optional[dict] = None, init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # ConfigDict: mmdet modules read nested options as attributes
        self.backbone = MODELS.build(ConfigDict(backbone))
        self.pixel_decoder = MODELS.build(ConfigDict(pixel_decoder))
        self.decoder = MODELS.build(ConfigDict(decoder))
        self.lang_encoder = MODELS.build(ConfigDict(lang_encoder))
        head_cfg = dict(type='XDecoderHead', criterion=criterion)
        head_cfg.update(head or {})
        self.head = MODELS.build(ConfigDict(head_cfg))
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
        fusion_cfg = dict(type='XDecoderFusionHead')
        fusion_cfg.update(fusion_head or {})
        # one test_cfg dict: the fusion head sees changes made through the model's
        self.fusion_head = MODELS.build(ConfigDict(fusion_cfg))
        self.fusion_head.test_cfg = self.test_cfg
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
        return canonical_task(task, TASKS, 'X-Decoder task')

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
        """Images ``(B, 3, H, W)`` -> ``(mask_features (B, C, H/4, W/4), multi-scale maps
        coarsest first)``."""
        feats = self.backbone(inputs)
        feats = list(feats.values()) if isinstance(feats, dict) else list(feats)
        return self.pixel_decoder(feats)

    def class_embeddings(self, class_names: Sequence[str]) -> Tensor:
        """``(K + 1, D)`` text embeddings of the classes and background (cached in eval)."""
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

    def _thing_classes(self, sample, names: Sequence[str]) -> List[str]:
        return list(sample.metainfo.get('thing_classes') or self.thing_classes or names)

    @torch.compiler.disable(recursive=False)  # per-image phrase counts: compile encode_ids
    def _phrase_tokens(
            self, phrase_lists: Sequence[Sequence[str]]) -> Tuple[Tensor, Tensor, List[Tensor]]:
        """Phrases per image -> padded grounding tokens ``(B, T, D)``, padding ``(B, T)`` and
        pooled phrase embeddings per image ``(P_b, D)``.

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

    @torch.compiler.disable(recursive=False)  # task branches: compile the networks it calls
    def decode(self, inputs: Tensor, task: str, **text) -> List[dict]:
        """Run the decoder for ``task`` and return the per-layer predictions in the criterion's
        format (``pred_logits``, ``pred_masks``, ``pred_grd_*``, ``pred_captions``,
        ``image_embeds``, ``text_embeds``, ``logit_scale``).

        Keyword Args:
            class_names (list[str]): Generic segmentation classes.
            phrases (list[list[str]]): Referring phrases per image.
            caption_ids (Tensor): Caption ids ``(B, T)`` (teacher forcing).
            texts (list[str] | Tensor): One caption (or its ids ``(B, L)``) per image
                (retrieval).
        """
        # under torch.compile: batch and image sizes, phrase and caption lengths change from
        # batch to batch; symbolic from the first compilation, one graph per task serves all
        mark_dynamic(inputs, (0, 2, 3))
        mask_features, feats = self.extract_feat(inputs)
        for feat in (mask_features, *feats):
            mark_dynamic(feat, (0, 2, 3))
        kwargs, embeds = {}, {}
        if text.get('phrases') is not None:
            tokens, padding, embeds['phrase_embeds'] = self._phrase_tokens(text['phrases'])
            mark_dynamic(tokens, (0, 1))
            mark_dynamic(padding, (0, 1))
            kwargs.update(grounding_tokens=tokens, grounding_padding=padding)
        if text.get('caption_ids') is not None:
            mark_dynamic(text['caption_ids'], (0, 1))
            kwargs['text_tokens'] = self.lang_encoder.encode_ids(text['caption_ids'])[0]
            mark_dynamic(kwargs['text_tokens'], (0, 1))
        preds = self.decoder(feats, mask_features, **kwargs)
        if text.get('class_names') is not None:
            embeds['class_embeds'] = self.class_embeddings(text['class_names'])
        if isinstance(text.get('texts'), Tensor):
            mark_dynamic(text['texts'], (0, 1))
            # token embeddings too: the query-token term of the retrieval loss
            embeds['text_token_embeds'], embeds['text_embeds'] = \
                self.lang_encoder.encode_ids(text['texts'])
            embeds['text_token_mask'] = self.lang_encoder.valid_mask(text['texts'])
        elif text.get('texts') is not None:
            embeds['text_embeds'] = self.lang_encoder.encode_texts(text['texts'])[1]
        return self.head.task_outputs(preds, self.lang_encoder, **embeds)

    # -------------------------------------------------------------------- loss
    @torch.compiler.disable(recursive=False)  # task grouping: compile the networks it calls
    def loss(self, inputs: Tensor, data_samples) -> Dict[str, Tensor]:
        """Losses through the criterion (``XDecoderCriterion``).

        A batch may join several sources (multi-source ``'joint'`` batches): the samples are
        grouped by ``task``, each group is cropped back to its own padded size and run on its
        own; the loss names of a mixed batch are prefixed with the task.

        Generic segmentation reads ``gt_instances`` (labels, masks) and the class names of the
        config; referring ``gt_instances.masks`` (one per phrase) and ``text``; captioning /
        retrieval ``caption_tokens`` + ``caption_mask`` (else ``text``).
        """
        if self.head.criterion is None:
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

    @torch.compiler.disable  # edits the samples' metainfo: eager under torch.compile
    def _crop_to_group(self, inputs: Tensor, samples) -> Tensor:
        """Drop the padding a group got from other sources' larger images."""
        divisor = getattr(self.data_preprocessor, 'pad_size_divisor', 1) or 1
        h = max(s.metainfo['img_shape'][0] for s in samples)
        w = max(s.metainfo['img_shape'][1] for s in samples)
        h, w = -(-h // divisor) * divisor, -(-w // divisor) * divisor
        for s in samples:
            s.set_metainfo(dict(batch_input_shape=(h, w), pad_shape=(h, w)))
        return inputs[..., :h, :w]

    @torch.compiler.disable(recursive=False)  # task branches: compile the networks it calls
    def _task_loss(self, inputs: Tensor, data_samples, task: str) -> Dict[str, Tensor]:
        names = things = None
        if task in ('semantic', 'instance', 'panoptic'):
            names = self._class_names(data_samples[0])
            things = self._thing_classes(data_samples[0], names)
        targets, text = self.head.get_targets(data_samples, task, inputs.shape[-2:], names,
                                              things, self.lang_encoder)
        return self.head.loss_by_feat(self.decode(inputs, task, **text), targets, task)

    # ----------------------------------------------------------------- predict
    def predict(self, inputs: Tensor, data_samples) -> list:
        """Predict the task of the batch; results are written into the data samples:

        ``semantic`` -> ``pred_sem_seg`` / ``seg_logits``; ``instance`` -> ``pred_instances``;
        ``panoptic`` -> ``pred_panoptic_seg``; ``referring`` -> ``pred_instances`` (one mask per
        phrase) and ``pred_sem_seg`` (1 = referred); ``retrieval`` -> ``image_embeds``,
        ``text_embeds`` and ``retrieval_logits``; ``caption`` -> ``pred_caption``; ``vqa`` ->
        ``pred_answer``; ``ref-caption`` -> ``pred_caption`` of the referred region;
        ``region-retrieval`` -> ``retrieval_logits`` plus the referring masks.
        """
        task = self._task_of(data_samples)
        handler = {
            'semantic': self._predict_generic, 'instance': self._predict_generic,
            'panoptic': self._predict_generic, 'referring': self._predict_referring,
            'retrieval': self._predict_retrieval, 'caption': self._predict_caption,
            'vqa': self._predict_vqa, 'ref-caption': self._predict_referring_caption,
            'region-retrieval': self._predict_region_retrieval}[task]
        return handler(inputs, data_samples, task)

    def _predict_generic(self, inputs, data_samples, task):
        names = self._class_names(data_samples[0])
        out = self.decode(inputs, task, class_names=names)[-1]
        # per-image ``thing_classes`` metainfo first (fusion head), then the model's
        return self.fusion_head.predict(out['pred_logits'], out['pred_masks'], data_samples,
                                        task, names, self.thing_classes or names)

    def _referring(self, inputs, data_samples, task) -> Tuple[List[dict], dict]:
        """Referring segmentation of the ``text`` phrases: per-image results of
        :meth:`XDecoderFusionHead.referring` and the decoder's last prediction."""
        phrases = [split_phrases(s.metainfo['text']) for s in data_samples]
        out = self.decode(inputs, task, phrases=phrases)[-1]
        results = self.fusion_head.predict_referring(
            out['pred_grd_logits'], out['pred_grd_masks'], data_samples,
            [len(p) for p in phrases])
        return results, out

    def _predict_referring(self, inputs, data_samples, task):
        results, _ = self._referring(inputs, data_samples, task)
        for sample, res in zip(data_samples, results):
            self.fusion_head.write_referring(sample, res)
        return data_samples

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
        """``ids (N, s) -> logits (N, V)`` of position ``s - 1`` (N = B x beams)."""

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
        results, _ = self._referring(inputs, data_samples, 'referring')
        region = torch.stack([r['low_res'][0] > 0 for r in results])
        self._predict_caption(inputs, data_samples, 'caption', region=region)
        for sample, res in zip(data_samples, results):
            self.fusion_head.write_referring(sample, res)
        return data_samples

    def _predict_region_retrieval(self, inputs, data_samples, task):
        """Region retrieval: score every image of the batch against the query text (global
        query) and localise the text in each image (referring segmentation)."""
        self._predict_referring(inputs, data_samples, 'referring')
        out = self.decode(inputs, 'retrieval')[-1]
        for b, sample in enumerate(data_samples):
            text = ' '.join(split_phrases(sample.metainfo['text']))
            text_embeds = self.lang_encoder.encode_texts([text])[1]
            sample.image_embeds = out['image_embeds'][b]
            sample.retrieval_logits = self.lang_encoder.vl_similarity(
                out['image_embeds'][b:b + 1], text_embeds)[0]
        return data_samples
