# Copyright (c) mmgen_vision contributors. All rights reserved.
"""GroupViT (Xu et al., CVPR 2022): image-text contrastive training of a grouping ViT, from
which zero-shot semantic segmentation emerges."""
import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from mmgen_vision.registry import MODELS
from .image_encoder import GroupViTImageEncoder
from .losses import (_dist_info, all_gather_with_grad, multi_label_targets,
                     soft_cross_entropy)
from .projector import ProjectionMLP
from .text_encoder import GroupViTTextEncoder


def _build(cfg: Union[dict, nn.Module], default_type: type) -> nn.Module:
    if isinstance(cfg, nn.Module):
        return cfg
    cfg = dict(cfg)
    if 'type' not in cfg:
        return default_type(**cfg)
    return MODELS.build(cfg)


@MODELS.register_module()
class GroupViT(BaseModel):
    """GroupViT: image encoder, text encoder, projection heads and temperatures.

    Args:
        image_encoder (dict | nn.Module): A :class:`GroupViTImageEncoder` (config).
        text_encoder (dict | nn.Module): A :class:`GroupViTTextEncoder` (config).
        output_dim (int): Joint embedding width. Defaults to 256.
        proj_hidden_channels (int): Hidden width of both projectors. Defaults to 4096.
        proj_num_layers (int): Layers of both projectors (:class:`ProjectionMLP`): 2 (the
            release's configs), 1 (linear) or 0 (identity). Defaults to 2.
        contrast_temperature (float): Initial temperature, ``logit_scale = ln(1/T)``.
            Defaults to 0.07.
        logit_scale_max (float): Clamp of ``exp(logit_scale)``. Defaults to 100.
        multi_label (int): Prompt texts per image for the multi-label loss (0: off).
            Defaults to 3.
        share_temperature (bool): Use ``logit_scale`` for the multi-label loss too.
            Defaults to False.
        multi_label_loss_weight (float): Defaults to 1.
        multi_label_same_text_positive (bool): In the multi-label loss, count every prompt
            that is token-identical to one of an image's own prompts as a positive of that
            image (targets spread uniformly over the positives, in both directions). The
            release (False) treats the same noun prompted for another image as a negative,
            which is harmless with a web-scale vocabulary but contradicts itself when a few
            nouns recur in every batch (ShapesWorld: 5 shapes). Defaults to False.
        multi_label_same_noun_positive (bool): Decide the positives of the multi-label loss by
            the noun instead: prompt ``p`` is a positive of image ``i`` when ``p``'s noun is
            one of the nouns of ``i``'s caption (whatever template prompted it), or when
            ``p`` was drawn from ``i``'s caption. Needs the noun identities that
            ``ExtractNouns`` adds (``multi_label_noun_ids`` / ``caption_noun_ids``). With
            several templates, ``same_text`` still treats "a photo of a circle." as a
            negative of another image with a circle prompted "a picture of a circle.", a
            target no image encoder can meet (the image holds no template); this rule has no
            such contradiction. Defaults to False.
        segment_noun_loss_weight (float): Weight of the segment-noun loss (**not in the
            paper**; 0 turns it off): the multi-label contrastive loss with the image-prompt
            similarity taken as the best match among the image's final segment tokens
            instead of the pooled embedding (:meth:`segment_noun_loss`), so that one segment
            carries each noun its caption names. Defaults to 0.
        data_preprocessor (dict, optional): mmengine data preprocessor.
        init_cfg (dict, optional): mmengine init config.

    ``forward(inputs, data_samples, mode)`` is the mmengine API (data samples carrying
    ``text_ids`` / ``multi_label_ids``, see :meth:`forward`); the raw-tensor form
    ``forward(image, text, mode)`` stays: ``'loss'`` takes ``text`` ids ``(B, 1 + K, L)`` (or
    ``(B, L)`` when ``multi_label == 0``) and returns the losses; ``'predict'`` takes class
    embeddings ``(N, D)`` (:meth:`build_text_embedding`) and returns zero-shot logits;
    ``'tensor'`` returns the projected image embeddings.
    """

    def __init__(self,
                 image_encoder: Union[dict, nn.Module],
                 text_encoder: Union[dict, nn.Module],
                 output_dim: int = 256,
                 proj_hidden_channels: int = 4096,
                 proj_num_layers: int = 2,
                 contrast_temperature: float = 0.07,
                 logit_scale_max: float = 100.,
                 multi_label: int = 3,
                 share_temperature: bool = False,
                 multi_label_loss_weight: float = 1.,
                 multi_label_same_text_positive: bool = False,
                 multi_label_same_noun_positive: bool = False,
                 segment_noun_loss_weight: float = 0.,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoder = _build(image_encoder, GroupViTImageEncoder)
        self.text_encoder = _build(text_encoder, GroupViTTextEncoder)
        self.image_projector = ProjectionMLP(self.image_encoder.embed_dims, output_dim,
                                             proj_hidden_channels, num_layers=proj_num_layers)
        self.text_projector = ProjectionMLP(self.text_encoder.width, output_dim,
                                            proj_hidden_channels, num_layers=proj_num_layers)
        self.logit_scale_max = logit_scale_max
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / contrast_temperature)))
        self.multi_label = multi_label
        self.share_temperature = share_temperature
        self.multi_label_loss_weight = multi_label_loss_weight
        if multi_label_same_text_positive and multi_label_same_noun_positive:
            raise ValueError('choose one of multi_label_same_text_positive and '
                             'multi_label_same_noun_positive')
        self.multi_label_same_text_positive = multi_label_same_text_positive
        self.multi_label_same_noun_positive = multi_label_same_noun_positive
        if segment_noun_loss_weight and multi_label <= 0:
            raise ValueError('segment_noun_loss_weight needs the prompted nouns of the '
                             'multi-label loss (multi_label > 0)')
        self.segment_noun_loss_weight = segment_noun_loss_weight
        if multi_label > 0 and not share_temperature:
            self.multi_label_logit_scale = nn.Parameter(
                torch.tensor(math.log(1 / contrast_temperature)))
        else:
            self.multi_label_logit_scale = None

    # ------------------------------------------------------------------ encoders
    def scale(self, multi_label: bool = False) -> Tensor:
        """``exp(logit scale)`` clamped at ``logit_scale_max``."""
        param = self.logit_scale
        if multi_label and self.multi_label_logit_scale is not None:
            param = self.multi_label_logit_scale
        return param.exp().clamp(max=self.logit_scale_max)

    def encode_image(self, image: Tensor, return_feat: bool = False,
                     return_attn: bool = False) -> Dict[str, Tensor]:
        """``image_x`` ``(B, D)`` (not normalised); with ``return_feat`` also ``image_feat``
        ``(B, S, D)`` (projected segment tokens); with ``return_attn`` ``attn_dicts`` and
        ``hw``."""
        out = self.image_encoder(image, return_attn=return_attn)
        result = dict(image_x=self.image_projector(out['x']))
        if return_feat:
            result['image_feat'] = self.image_projector(out['feat'])
        if return_attn:
            result['attn_dicts'] = out['attn_dicts']
            result['hw'] = out['hw']
        return result

    def encode_text(self, text: Tensor) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """``(B, L)`` ids -> ``(B, D)``; ``(B, 1 + K, L)`` -> (caption ``(B, D)``, prompts
        ``(B, K, D)``)."""
        if text.dim() == 2:
            return self.text_projector(self.text_encoder(text))
        b, n, length = text.shape
        x = self.text_projector(self.text_encoder(text.reshape(b * n, length))).reshape(b, n, -1)
        return x[:, 0], x[:, 1:]

    # ------------------------------------------------------------------ losses
    def contrastive_loss(self, image_x: Tensor, text_x: Tensor) -> Tensor:
        """Symmetric InfoNCE over the (gathered) batch: ``0.5 (CE_i2t + CE_t2i)``."""
        rank, _ = _dist_info()
        image_x = F.normalize(image_x, dim=-1)
        text_x = F.normalize(text_x, dim=-1)
        b = image_x.shape[0]
        labels = torch.arange(b, device=image_x.device) + b * rank
        s = self.scale()
        logits_per_image = s * image_x @ all_gather_with_grad(text_x).t()
        logits_per_text = s * text_x @ all_gather_with_grad(image_x).t()
        return 0.5 * (F.cross_entropy(logits_per_image, labels) +
                      F.cross_entropy(logits_per_text, labels))

    def multi_label_targets(self, b: int, k: int, device: torch.device,
                            **ids: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """:func:`~.losses.multi_label_targets` with this model's rule for the positives
        (``multi_label_same_noun_positive`` / ``multi_label_same_text_positive`` / the
        release's)."""
        positives = ('same_noun' if self.multi_label_same_noun_positive else
                     'same_text' if self.multi_label_same_text_positive else 'release')
        return multi_label_targets(b, k, device, positives, **ids)

    def multi_label_contrastive_loss(self, image_x: Tensor, text_x: Tensor,
                                     text_ids: Optional[Tensor] = None,
                                     noun_ids: Optional[Tensor] = None,
                                     caption_noun_ids: Optional[Tensor] = None) -> Tensor:
        """Soft-target contrastive loss of images ``(B, D)`` with their ``K`` prompt texts
        ``(B, K, D)`` (uniform ``1/K`` targets on the image side).

        With ``multi_label_same_text_positive``, ``text_ids`` (``(B, K, L)``, the prompts'
        token ids) decide the positives: every gathered prompt identical to one of image
        ``i``'s prompts is a positive of image ``i`` (and vice versa); targets are uniform
        over the positives of each row. With ``multi_label_same_noun_positive``, ``noun_ids``
        (``(B, K)``) and ``caption_noun_ids`` (``(B, M)``) decide them instead (see
        :func:`~.losses.same_noun_targets`).
        """
        b, k, _ = text_x.shape
        image_x = F.normalize(image_x, dim=-1)
        text_x = F.normalize(text_x, dim=-1).reshape(b * k, -1)
        s = self.scale(multi_label=True)
        logits_per_image = s * image_x @ all_gather_with_grad(text_x).t()
        logits_per_text = s * text_x @ all_gather_with_grad(image_x).t()
        return self.multi_label_loss_weight * self._soft_contrastive(
            logits_per_image, logits_per_text, text_ids=text_ids, noun_ids=noun_ids,
            caption_noun_ids=caption_noun_ids)

    def _soft_contrastive(self, logits_per_image: Tensor, logits_per_text: Tensor,
                          **ids: Optional[Tensor]) -> Tensor:
        """``0.5 (CE_i2t + CE_t2i)`` of ``(B, B_all K)`` / ``(B K, B_all)`` logits against
        :meth:`multi_label_targets`."""
        b, k = logits_per_image.shape[0], logits_per_text.shape[0] // logits_per_image.shape[0]
        target_image, target_text = self.multi_label_targets(b, k, logits_per_image.device,
                                                             **ids)
        return 0.5 * (soft_cross_entropy(logits_per_image, target_image) +
                      soft_cross_entropy(logits_per_text, target_text))

    def segment_noun_loss(self, image_feat: Tensor, text_x: Tensor,
                          text_ids: Optional[Tensor] = None,
                          noun_ids: Optional[Tensor] = None,
                          caption_noun_ids: Optional[Tensor] = None) -> Tensor:
        """Multi-label contrastive loss between the final segment tokens ``(B, S, D)`` of
        each image and the ``K`` prompts ``(B, K, D)`` (not in the paper).

        The similarity of image ``i`` and prompt ``p`` is the best cosine over ``i``'s
        segments, ``max_s cos(feat_is, text_p)``; logits, targets (:meth:`multi_label_targets`)
        and temperature are those of :meth:`multi_label_contrastive_loss`. The pooled loss
        only asks the MEAN of the segments to match the caption's nouns; this one asks one
        segment of each image to match each of its nouns and every segment of an image
        without the noun to stay away from it, which is what zero-shot segmentation reads
        (each segment labelled by its best class).
        """
        b, k, _ = text_x.shape
        feat = F.normalize(image_feat, dim=-1)
        text_x = F.normalize(text_x, dim=-1).reshape(b * k, -1)
        s = self.scale(multi_label=True)
        # (B, B_all K): best segment of image i for every gathered prompt
        logits_per_image = s * torch.einsum('bsd,nd->bns', feat,
                                            all_gather_with_grad(text_x)).amax(dim=-1)
        # (B K, B_all): best segment of every gathered image for prompt p
        logits_per_text = s * torch.einsum('nd,bsd->nbs', text_x,
                                           all_gather_with_grad(feat)).amax(dim=-1)
        return self.segment_noun_loss_weight * self._soft_contrastive(
            logits_per_image, logits_per_text, text_ids=text_ids, noun_ids=noun_ids,
            caption_noun_ids=caption_noun_ids)

    def loss(self, image: Tensor, text: Tensor, noun_ids: Optional[Tensor] = None,
             caption_noun_ids: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """``loss`` (image-text contrastive) and ``multi_label_loss`` (when ``multi_label``).

        ``noun_ids`` ``(B, K)`` / ``caption_noun_ids`` ``(B, M)``: the noun identities of the
        prompts and captions, for ``multi_label_same_noun_positive``. With
        ``segment_noun_loss_weight`` also ``segment_noun_loss``."""
        with_segments = self.segment_noun_loss_weight > 0
        encoded = self.encode_image(image, return_feat=with_segments)
        image_x = encoded['image_x']
        if self.multi_label > 0:
            if text.dim() != 3 or text.shape[1] != 1 + self.multi_label:
                raise ValueError(f'text must be [B, 1 + {self.multi_label}, L], got '
                                 f'{tuple(text.shape)}')
            text_x, text_ml = self.encode_text(text)
            nouns = dict(text_ids=text[:, 1:], noun_ids=noun_ids,
                         caption_noun_ids=caption_noun_ids)
            losses = dict(loss=self.contrastive_loss(image_x, text_x),
                          multi_label_loss=self.multi_label_contrastive_loss(
                              image_x, text_ml, **nouns))
            if with_segments:
                losses['segment_noun_loss'] = self.segment_noun_loss(
                    encoded['image_feat'], text_ml, **nouns)
            return losses
        text_x = self.encode_text(text if text.dim() == 2 else text[:, 0])
        return dict(loss=self.contrastive_loss(image_x, text_x))

    # ------------------------------------------------------------------ zero shot
    def build_text_embedding(self, text: Tensor) -> Tensor:
        """Class embeddings ``(N, D)`` from ids ``(N, T, L)`` (``T`` templates) or ``(N, L)``:
        mean of the projected texts over templates, L2-normalised."""
        if text.dim() == 2:
            text = text[:, None]
        n, t, length = text.shape
        x = self.text_projector(self.text_encoder(text.reshape(n * t, length)))
        return F.normalize(x.reshape(n, t, -1).mean(dim=1), dim=-1)

    def zero_shot_pred(self, image: Tensor, text_embedding: Tensor) -> Tensor:
        """Cosine similarities ``(B, N)`` of images and class embeddings (no logit scale)."""
        image_x = F.normalize(self.encode_image(image)['image_x'], dim=-1)
        return image_x @ text_embedding.t()

    def get_attn_maps(self, image: Tensor, rescale: bool = True) -> List[Tensor]:
        """Token -> group maps of every grouping stage from the SOFT assignments, stage ``i``
        being the product of stages ``0..i`` (``(B, N, S_i)``), reshaped to the token grid and
        (``rescale``) bilinearly resized to the image: ``(B, H, W, S_i)`` each."""
        out = self.image_encoder(image, return_attn=True)
        return self._attn_maps(out['attn_dicts'], out['hw'], image.shape[-2:], rescale)

    @staticmethod
    def _attn_maps(attn_dicts, hw, size, rescale: bool) -> List[Tensor]:
        maps, current = [], None
        for attn in attn_dicts:
            soft = attn['soft'][:, 0].transpose(1, 2)  # (B, N_in, S)
            current = soft if current is None else current @ soft
            b, _, s = current.shape
            grid = current.reshape(b, hw[0], hw[1], s)
            if rescale:
                grid = F.interpolate(grid.permute(0, 3, 1, 2), size=tuple(size), mode='bilinear',
                                     align_corners=False).permute(0, 2, 3, 1)
            maps.append(grid)
        return maps

    def seg_logits(self, image: Tensor, text_embedding: Tensor, with_bg: bool = True,
                   bg_thresh: float = 0.95, topk: int = 5) -> Tensor:
        """Zero-shot segmentation scores ``[B, (1 +) N, H, W]`` of whole images.

        Every pixel takes the segment token its (resized, multiplied) soft assignment ranks
        first; segment scores are the softmax over classes of ``s * cos(segment, class)``
        restricted to the ``topk`` classes of the pooled image embedding, times the unmasked
        softmax. With ``with_bg`` channel 0 is 1 where a pixel's best score is below
        ``min(bg_thresh, max score of the image)``.
        """
        enc = self.encode_image(image, return_feat=True, return_attn=True)
        maps = self._attn_maps(enc['attn_dicts'], enc['hw'], image.shape[-2:], rescale=True)
        group_map = maps[-1]  # (B, H, W, S)
        s = self.scale()
        text_embedding = text_embedding.to(group_map.dtype)
        num_classes = text_embedding.shape[0]
        results = []
        for i in range(image.shape[0]):
            groups = F.normalize(enc['image_feat'][i], dim=-1)
            pooled = F.normalize(enc['image_x'][i:i + 1], dim=-1)
            aff = s * groups @ text_embedding.t()  # (S, N)
            pre = aff.softmax(dim=-1)
            avg = (s * pooled @ text_embedding.t()).softmax(dim=-1)[0]
            keep = avg.topk(min(topk, num_classes)).indices
            mask = torch.full_like(aff, float('-inf'))
            mask[:, keep] = 0.
            aff = (aff + mask).softmax(dim=-1) * pre
            onehot = F.one_hot(group_map[i].argmax(dim=-1), group_map.shape[-1]).to(aff.dtype)
            logits = (onehot @ aff).permute(2, 0, 1)  # (N, H, W)
            if with_bg:
                thresh = torch.clamp(aff.max(), max=bg_thresh)
                bg = (logits.max(dim=0, keepdim=True).values < thresh).to(logits.dtype)
                logits = torch.cat([bg, logits], dim=0)
            results.append(logits)
        return torch.stack(results)

    # ------------------------------------------------------------------ mmengine
    def texts_from_data_samples(self, data_samples: Sequence[BaseDataElement],
                                device: Optional[torch.device] = None) -> Tensor:
        """Stack the ``text_ids`` (``[L]``) and, when the multi-label loss is on, the
        ``multi_label_ids`` (``(K, L)``) of the data samples into the ``text`` argument of
        :meth:`loss`: ``(B, 1 + K, L)`` (or ``(B, L)`` with ``multi_label == 0``). Sequences
        of different lengths are right-padded with 0 (the ``pad_token='zero'`` id)."""
        if not data_samples:
            raise ValueError('no data samples')
        rows = []
        for i, sample in enumerate(data_samples):
            if 'text_ids' not in sample:
                raise KeyError(f'data sample {i} has no text_ids (keys: {list(sample.keys())})')
            ids = [torch.as_tensor(sample.text_ids).reshape(1, -1)]
            if self.multi_label > 0:
                if 'multi_label_ids' not in sample:
                    raise KeyError(f'data sample {i} has no multi_label_ids, needed by the '
                                   f'multi-label loss (multi_label={self.multi_label})')
                ml = torch.as_tensor(sample.multi_label_ids)
                if ml.dim() != 2 or ml.shape[0] != self.multi_label:
                    raise ValueError(f'data sample {i}: multi_label_ids must be '
                                     f'[{self.multi_label}, L], got {tuple(ml.shape)}')
                ids.append(ml)
            rows.append(ids)
        length = max(t.shape[-1] for ids in rows for t in ids)
        text = torch.stack([
            torch.cat([F.pad(t.long(), (0, length - t.shape[-1])) for t in ids], dim=0)
            for ids in rows
        ])
        if self.multi_label == 0:
            text = text[:, 0]
        return text.to(device) if device is not None else text

    def noun_ids_from_data_samples(self, data_samples: Sequence[BaseDataElement],
                                   device: Optional[torch.device] = None) -> Dict[str, Tensor]:
        """Stack the ``multi_label_noun_ids`` (``[K]``) and ``caption_noun_ids`` (``[M]``)
        of the data samples (``ExtractNouns`` adds them) into ``noun_ids`` ``(B, K)`` and
        ``caption_noun_ids`` ``(B, M)``."""
        out = {}
        for key, name in (('multi_label_noun_ids', 'noun_ids'),
                          ('caption_noun_ids', 'caption_noun_ids')):
            missing = [i for i, sample in enumerate(data_samples) if key not in sample]
            if missing:
                raise KeyError(f'data sample {missing[0]} has no {key}, needed by '
                               'multi_label_same_noun_positive (add ExtractNouns to the '
                               'pipeline and pack it with PackImageTextInputs)')
            value = torch.stack([torch.as_tensor(s.get(key)).long() for s in data_samples])
            out[name] = value.to(device) if device is not None else value
        return out

    def forward(self,
                inputs: Tensor,
                data_samples: Union[None, Tensor, Sequence[BaseDataElement]] = None,
                mode: str = 'tensor'):
        """Runner API and raw-tensor API.

        ``inputs`` are normalised images ``(B, 3, H, W)`` (the output of the data
        preprocessor). ``data_samples`` is either

        - a list of data elements with ``text_ids`` ``[L]`` (and ``multi_label_ids``
          ``(K, L)``), as the image-text datasets produce: ``'loss'`` returns the loss dict,
          ``'predict'`` returns the samples with ``image_embedding`` (L2-normalised ``[D]``)
          set, ``'tensor'`` the projected image embeddings ``(B, D)``;
        - a tensor (raw API): ``'loss'`` takes text ids ``(B, 1 + K, L)`` (``(B, L)`` without
          multi-label), ``'predict'`` class embeddings ``(N, D)`` and returns the zero-shot
          logits ``(B, N)``, ``'tensor'`` ignores it.
        """
        if mode not in ('loss', 'predict', 'tensor'):
            raise ValueError(f'unknown mode {mode!r}')
        if mode == 'tensor':
            return self.encode_image(inputs)['image_x']
        if data_samples is None:
            raise ValueError(f"mode={mode!r} needs data samples (or a text / class-embedding "
                             'tensor)')
        if isinstance(data_samples, Tensor):
            if mode == 'loss':
                return self.loss(inputs, data_samples)
            return self.zero_shot_pred(inputs, data_samples)
        if mode == 'loss':
            nouns = {}
            if self.multi_label > 0 and self.multi_label_same_noun_positive:
                nouns = self.noun_ids_from_data_samples(data_samples, inputs.device)
            return self.loss(inputs, self.texts_from_data_samples(data_samples, inputs.device),
                             **nouns)
        image_x = F.normalize(self.encode_image(inputs)['image_x'], dim=-1)
        for sample, emb in zip(data_samples, image_x):
            sample.set_field(emb, 'image_embedding')
        return list(data_samples)
