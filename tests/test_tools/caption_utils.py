# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Caption baselines of ShapesWorld's COCO-caption layout, shared by the X-Decoder tests
(``test_xdecoder_e2e.py``, ``test_xdecoder_caption_e2e.py``).

- the best constant caption: the single training caption that, given for every val image,
  scores highest on val (BLEU-4 and CIDEr-D each take their best one), scored with
  ``CaptionMetric``'s own tokenizer and scorers;
- the chance of naming the largest object: a uniform guess among the colour-shape / person
  phrases of the training captions' "<largest object> is the largest thing in view".
"""
import json
import os.path as osp
import pickle
import re

from mmgen_vision.evaluation.metrics.caption_metric import cider_d, corpus_bleu, ptb_tokenize

_LARGEST = re.compile(r'^an? (.+) is the largest thing in view')


def references(coco_root: str, split: str) -> dict:
    """``{image_id: [caption, ...]}`` of ``annotations/captions_<split>2017.json``."""
    with open(osp.join(coco_root, 'annotations', f'captions_{split}2017.json')) as f:
        data = json.load(f)
    refs = {}
    for ann in data['annotations']:
        refs.setdefault(ann['image_id'], []).append(ann['caption'])
    return refs


def largest_object(captions) -> str:
    """``'green square'`` / ``'person'`` from the image's "<largest> is the largest thing in
    view" caption."""
    for caption in captions:
        match = _LARGEST.match(' '.join(ptb_tokenize(caption)))
        if match:
            return match.group(1)
    raise ValueError(f'no "is the largest thing in view" caption in {captions}')


def names(caption: str, phrase: str) -> bool:
    """Whether the tokenized ``caption`` contains the words of ``phrase`` in a row."""
    return f' {phrase} ' in f' {" ".join(ptb_tokenize(caption))} '


def caption_baselines(coco_root: str) -> dict:
    """Best constant caption (``bleu4``, ``cider`` in percent), the chance of naming the
    largest object (``chance``) and the val references (``val``)."""
    val = references(coco_root, 'val')
    train = references(coco_root, 'train')
    gts = {k: [ptb_tokenize(c) for c in v] for k, v in val.items()}
    candidates = sorted({c for v in train.values() for c in v})
    bleu4, cider = 0., 0.
    for caption in candidates:
        res = {k: ptb_tokenize(caption) for k in gts}
        bleu4 = max(bleu4, 100 * corpus_bleu(gts, res)[3])
        cider = max(cider, 100 * cider_d(gts, res)[0])
    phrases = {largest_object(v) for v in train.values()}
    return dict(bleu4=bleu4, cider=cider, chance=1. / len(phrases), val=val)


def load_predictions(dump: str) -> dict:
    """``{image_id: generated caption}`` from the ``tools/test.py --out`` dump a test has just
    written into its own temp dir (MMEngine's pickle of the data samples, tensors included, so
    the project's ``safe_pickle_load`` refuses it; no user file is read here)."""
    with open(dump, 'rb') as f:
        return {p['img_id']: p['pred_caption'] for p in pickle.load(f)}


def largest_named_rate(predictions: dict, val: dict) -> float:
    """Share of the val images whose generated caption (``predictions[image_id]``) names the
    colour and shape (or ``person``) of the image's largest object."""
    named = [names(predictions[k], largest_object(v)) for k, v in val.items()]
    return sum(named) / len(named)
