# Copyright (c) mmgen_vision contributors. All rights reserved.
import gzip
import json

import pytest
import torch

from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer

SENTENCES = [
    'a photo of a cat', 'Hello, World!', 'the brown cow on the right',
    "a man's red jacket   with  2 pockets", 'an aeroplane over the pottedplant'
]


def test_known_ids_and_padding():
    tok = CLIPTokenizer()
    ids = tok('a photo of a cat')
    assert ids.shape == (1, 77) and ids.dtype == torch.long
    # ids of Stable Diffusion's CLIP tokenizer, checked by hand
    assert ids[0, :7].tolist() == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert (ids[0, 7:] == 49407).all()  # 'eot' padding (SD 1.x)
    zero = CLIPTokenizer(pad_token='zero')('a photo of a cat', context_length=10)
    assert zero.shape == (1, 10)
    assert zero[0].tolist() == [49406, 320, 1125, 539, 320, 2368, 49407, 0, 0, 0]
    assert tok.eot_index(ids).tolist() == [6]
    assert tok.eot_index(zero).tolist() == [6]
    assert tok.decode(ids[0]) == 'a photo of a cat'
    with pytest.raises(ValueError):
        CLIPTokenizer(pad_token='pad')


def test_truncation_keeps_eot_last():
    tok = CLIPTokenizer(pad_token='zero')
    ids = tok(['word ' * 100, 'short'], context_length=8)
    assert ids.shape == (2, 8)
    assert ids[0, 0] == 49406 and ids[0, -1] == 49407
    assert (ids[0, 1:-1] == tok.encode('word')[0]).all()
    assert tok.eot_index(ids).tolist() == [7, 2]


def test_matches_transformers_clip_tokenizer(tmp_path):
    """Build a HF CLIPTokenizer offline from open_clip's BPE file and compare ids."""
    from open_clip.tokenizer import default_bpe
    from transformers import CLIPTokenizer as HFCLIPTokenizer
    ours = CLIPTokenizer()
    vocab = dict(ours._bpe.encoder)
    vocab['<|startoftext|>'] = vocab.pop('<start_of_text>')
    vocab['<|endoftext|>'] = vocab.pop('<end_of_text>')
    (tmp_path / 'vocab.json').write_text(json.dumps(vocab))
    # same file format: a header line, then one merge per line
    (tmp_path / 'merges.txt').write_bytes(gzip.open(default_bpe()).read())
    hf = HFCLIPTokenizer(
        str(tmp_path / 'vocab.json'), str(tmp_path / 'merges.txt'),
        pad_token='<|endoftext|>')
    expected = hf(SENTENCES, padding='max_length', max_length=77, truncation=True,
                  return_tensors='pt').input_ids
    assert torch.equal(ours(SENTENCES), expected)
