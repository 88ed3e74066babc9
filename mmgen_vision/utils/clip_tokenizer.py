# Copyright (c) mmgen_vision contributors. All rights reserved.
"""CLIP byte-pair-encoding tokenizer shared by the text-conditioned models.

Built on the vocabulary that ``open_clip`` ships (``bpe_simple_vocab_16e6.txt.gz``), so it
works offline. Ids equal those of OpenAI CLIP, of ``open_clip`` and of the HuggingFace
``CLIPTokenizer`` used by Stable Diffusion (start of text ``49406``, end of text ``49407``).
"""
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor

from mmgen_vision.registry import TASK_UTILS

PAD_TOKENS = ('eot', 'zero')


@TASK_UTILS.register_module()
class CLIPTokenizer:
    """CLIP BPE tokenizer returning fixed-length id tensors.

    Every sequence is ``[SOT] + bpe(text) + [EOT]`` followed by padding. Over-long texts are
    truncated so that the end-of-text token always stays last.

    Args:
        context_length (int): Default sequence length ``L``. Defaults to 77.
        pad_token (str): ``'eot'`` pads with the end-of-text id 49407 (the convention of the
            HuggingFace tokenizer shipped with Stable Diffusion 1.x) and ``'zero'`` pads with
            id 0 (OpenAI CLIP / open_clip, and Stable Diffusion 2.x whose pad token ``'!'`` is
            id 0). Defaults to ``'eot'``.
        bpe_path (str, optional): A BPE merges file in the ``bpe_simple_vocab_16e6.txt.gz``
            format. Defaults to the one bundled with ``open_clip``.
        clean (str): Text cleaning of ``open_clip`` (``'lower'``: ftfy, html unescape,
            whitespace squashing, lower case — what CLIP and Stable Diffusion use;
            ``'whitespace'`` keeps the case; ``'canonicalize'`` also strips punctuation).
            Defaults to ``'lower'``.
    """

    def __init__(self,
                 context_length: int = 77,
                 pad_token: str = 'eot',
                 bpe_path: Optional[str] = None,
                 clean: str = 'lower') -> None:
        from open_clip.tokenizer import SimpleTokenizer, default_bpe
        if pad_token not in PAD_TOKENS:
            raise ValueError(f'pad_token must be one of {PAD_TOKENS}, got {pad_token!r}')
        if context_length < 2:
            raise ValueError(f'context_length must be >= 2 (SOT and EOT), got {context_length}')
        self.context_length = context_length
        self.pad_token = pad_token
        self._bpe = SimpleTokenizer(bpe_path=bpe_path or default_bpe(), clean=clean)
        self.sot_token_id = int(self._bpe.sot_token_id)
        self.eot_token_id = int(self._bpe.eot_token_id)
        self.pad_token_id = self.eot_token_id if pad_token == 'eot' else 0
        self.vocab_size = int(self._bpe.vocab_size)

    def encode(self, text: str) -> List[int]:
        """BPE ids of ``text`` without start/end tokens and without truncation."""
        return list(self._bpe.encode(text))

    def decode(self, ids: Union[Sequence[int], Tensor]) -> str:
        """Text of ``ids``; start, end and padding tokens are dropped."""
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        ids = [int(i) for i in ids]
        if self.eot_token_id in ids:
            ids = ids[:ids.index(self.eot_token_id)]
        ids = [i for i in ids if i != self.sot_token_id]
        return self._bpe.decode(ids).strip()

    def __call__(self,
                 texts: Union[str, Sequence[str]],
                 context_length: Optional[int] = None) -> Tensor:
        """Tokenize one text or a list of texts.

        Args:
            texts (str | Sequence[str]): ``N`` texts (a single string gives ``N = 1``).
            context_length (int, optional): Sequence length ``L``; defaults to the one given
                at construction.

        Returns:
            Tensor: Ids of shape ``(N, L)``, dtype ``torch.long``.
        """
        if isinstance(texts, str):
            texts = [texts]
        length = context_length or self.context_length
        if length < 2:
            raise ValueError(f'context_length must be >= 2, got {length}')
        out = torch.full((len(texts), length), self.pad_token_id, dtype=torch.long)
        for row, text in enumerate(texts):
            body = self.encode(text)[:length - 2]
            ids = [self.sot_token_id] + body + [self.eot_token_id]
            out[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def eot_index(self, ids: Tensor) -> Tensor:
        """Position of the (first) end-of-text token in each row.

        Args:
            ids (Tensor): Ids of shape ``(N, L)``.

        Returns:
            Tensor: Indices of shape ``(N,)`` (``L - 1`` for a row without EOT).
        """
        is_eot = ids == self.eot_token_id
        index = is_eot.int().argmax(dim=-1)
        return torch.where(is_eot.any(dim=-1), index, torch.full_like(index, ids.shape[-1] - 1))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(context_length={self.context_length}, '
                f'pad_token={self.pad_token!r}, vocab_size={self.vocab_size})')
