# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder language encoder: CLIP BPE tokenizer + causal text transformer + ``lang_proj`` +
learnable ``logit_scale``, with prompt-template ensembles for class names."""
import random
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from mmgen_vision.registry import MODELS
from mmgen_vision.utils.compile import mark_dynamic
from ..common.clip_text import CLIPTextTransformer
from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer

#: Suffixes the release strips from COCO-panoptic class names before prompting.
NAME_SUFFIXES = ('-other', '-merged', '-stuff')


def default_templates() -> List[str]:
    """The 81 class-name templates of the release: ``'{}.'``, ``'a photo of a {}.'``, then the
    other 79 ImageNet prompts of OpenAI CLIP in their order (read from ``open_clip``)."""
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES
    first = 'a photo of a {}.'
    rest = [template('{}') for template in OPENAI_IMAGENET_TEMPLATES]
    return ['{}.', first] + [t for t in rest if t != first]


def clean_class_name(name: str) -> str:
    """``'wall-other-merged'`` -> ``'wall'``; underscores become spaces."""
    for suffix in NAME_SUFFIXES:
        name = name.replace(suffix, '')
    return name.replace('_', ' ').strip()


def l2_normalize(x: Tensor, eps: float = 1e-7) -> Tensor:
    """``x / (|x| + eps)`` over the last dimension (the release's normalisation)."""
    return x / (x.norm(dim=-1, keepdim=True) + eps)


@MODELS.register_module()
class XDecoderLanguageEncoder(nn.Module):
    """Text side of X-Decoder.

    Args:
        width (int): Text transformer width. Defaults to 512.
        layers (int): Defaults to 12.
        heads (int): Defaults to 8.
        proj_dim (int): Output of ``lang_proj`` (= decoder hidden). Defaults to 512.
        context_length (int): Defaults to 77.
        vocab_size (int): Defaults to 49408.
        eps (float): LayerNorm epsilon. Defaults to 1e-12.
        logit_scale_init (float): Initial ``logit_scale`` (used as ``exp``). Defaults to 1.0
            (the release's value; the CLIP convention would be ``log(1 / 0.07)``).
        max_logit_scale (float): Clamp of ``exp(logit_scale)`` in :meth:`vl_similarity`.
            Defaults to 100.
        templates (Sequence[str], optional): Class-name prompt templates; defaults to
            :func:`default_templates`.
        with_cp (bool): Activation checkpointing. Defaults to False.
    """

    def __init__(self, width: int = 512, layers: int = 12, heads: int = 8,
                 proj_dim: int = 512, context_length: int = 77, vocab_size: int = 49408,
                 eps: float = 1e-12, logit_scale_init: float = 1.0,
                 max_logit_scale: float = 100., templates: Optional[Sequence[str]] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        self.tokenizer = CLIPTokenizer(context_length=context_length, pad_token='eot')
        if vocab_size < self.tokenizer.vocab_size:
            raise ValueError(f'vocab_size {vocab_size} < the tokenizer\'s '
                             f'{self.tokenizer.vocab_size}')
        self.context_length = context_length
        self.text_encoder = CLIPTextTransformer(context_length, vocab_size, width, layers,
                                                heads, eps=eps, with_cp=with_cp)
        self.lang_proj = nn.Parameter(torch.empty(width, proj_dim))
        nn.init.trunc_normal_(self.lang_proj, std=0.02)
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale_init)))
        self.max_logit_scale = max_logit_scale
        self.templates = list(templates) if templates is not None else default_templates()
        if not self.templates or any('{}' not in t for t in self.templates):
            raise ValueError('every prompt template needs one "{}"')

    @property
    def token_embedding(self) -> Tensor:
        """Token embedding matrix ``(V, width)`` (tied to the caption output)."""
        return self.text_encoder.token_embedding.weight

    @torch.compiler.disable  # Python string processing: eager under torch.compile
    def tokenize(self, texts: Sequence[str]) -> Tuple[Tensor, Tensor]:
        """Texts -> ``(ids (N, L), attention_mask (N, L) bool: SOT..EOT)``."""
        ids = self.tokenizer(list(texts)).to(self.lang_proj.device)
        return ids, self.valid_mask(ids)

    def valid_mask(self, ids: Tensor) -> Tensor:
        """Bool ``(N, L)``: True from the start token to the first end token included."""
        eot = self.tokenizer.eot_index(ids)
        return torch.arange(ids.shape[1], device=ids.device)[None] <= eot[:, None]

    def encode_ids(self, ids: Tensor) -> Tuple[Tensor, Tensor]:
        """Ids ``(N, L)`` -> ``(tokens (N, L, D), pooled (N, D))``, both through
        ``lang_proj`` and unnormalised; ``pooled`` is taken at the first EOT (argmax id)."""
        feats = self.text_encoder(ids)
        pooled = CLIPTextTransformer.eot_pool(feats, ids)
        return feats @ self.lang_proj, pooled @ self.lang_proj

    @torch.compiler.disable(recursive=False)  # strings: compile encode_ids only
    def encode_texts(self, texts: Sequence[str]) -> Tuple[Tensor, Tensor, Tensor]:
        """Texts -> ``(tokens (N, L, D), pooled (N, D), attention_mask (N, L))``."""
        ids, mask = self.tokenize(texts)
        mark_dynamic(ids, (0, ))  # under torch.compile: any number of texts, one graph
        tokens, pooled = self.encode_ids(ids)
        return tokens, pooled, mask

    @torch.compiler.disable(recursive=False)  # strings, Python RNG: compile encode_ids
    def encode_class_names(self, class_names: Sequence[str], with_background: bool = True,
                           templates: Optional[Sequence[str]] = None) -> Tensor:
        """Class embeddings ``[K(+1), D]`` (unit norm), background last when asked.

        Eval mode averages the normalised embeddings of every template and re-normalises;
        train mode uses one random template per class (the release's recipe).
        """
        names = [clean_class_name(n) for n in class_names]
        if with_background:
            names.append('background')
        templates = list(templates) if templates is not None else self.templates
        if self.training:
            prompts = [[random.choice(templates).format(n)] for n in names]
        else:
            prompts = [[t.format(n) for t in templates] for n in names]
        per_class = len(prompts[0])
        _, pooled, _ = self.encode_texts([p for group in prompts for p in group])
        pooled = l2_normalize(pooled).view(len(names), per_class, -1).mean(dim=1)
        return pooled / pooled.norm(dim=-1, keepdim=True)

    def compute_similarity(self, embeds: Tensor, text_embeds: Tensor) -> Tensor:
        """Class logits ``exp(logit_scale) * cos``: ``(..., D) x (K, D) -> (..., K)``
        (no clamp; ``text_embeds`` are expected normalised)."""
        return self.logit_scale.exp() * l2_normalize(embeds) @ text_embeds.t()

    def vl_similarity(self, embeds: Tensor, text_embeds: Tensor) -> Tensor:
        """Vision-language logits ``min(exp(logit_scale), max) * cos(a, b)``:
        ``(N, D) x (M, D) -> (N, M)`` (grounding, retrieval)."""
        scale = self.logit_scale.exp().clamp(max=self.max_logit_scale)
        return scale * l2_normalize(embeds) @ l2_normalize(text_embeds).t()
