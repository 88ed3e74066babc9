# Copyright (c) mmgen_vision contributors. All rights reserved.
"""X-Decoder data on ShapesWorld: the COCO-captions dataset, the text tokenization / packing
transforms and every X-Decoder dataset config (train and val samples are built and checked)."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO_ROOT
from mmgen_vision.datasets import CocoCaptionDataset
from mmgen_vision.datasets.transforms import TokenizeXDecoderText
from mmgen_vision.utils.clip_tokenizer import CLIPTokenizer
from mmgen_vision.registry import DATASETS

CONFIG_DIR = osp.join(REPO_ROOT, 'configs/_base_/datasets')


def _point_to(cfg, root):
    if isinstance(cfg, dict):
        return {k: _point_to(v, root) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [_point_to(v, root) for v in cfg]
    if isinstance(cfg, str) and cfg.startswith('data/shapesworld/'):
        return osp.join(root, cfg[len('data/shapesworld/'):])
    return cfg


def _build(dataset_cfg, root):
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        return DATASETS.build(_point_to(dataset_cfg, root))


def test_caption_dataset_listings(shapesworld_root):
    root = osp.join(shapesworld_root, 'coco')
    ann_file = 'annotations/captions_train2017.json'
    with open(osp.join(root, ann_file)) as f:
        anns = json.load(f)['annotations']
    per_caption = CocoCaptionDataset(ann_file=ann_file, data_root=root,
                                     data_prefix=dict(img_path='train2017/'))
    per_image = CocoCaptionDataset(ann_file=ann_file, data_root=root,
                                   data_prefix=dict(img_path='train2017/'), sample_per='image')
    assert len(per_caption) == len(anns) == 5 * 64
    assert len(per_image) == 64
    info = per_image.get_data_info(0)
    assert info['img_id'] == 1 and len(info['captions']) == 5
    assert info['text'] == info['captions'][0]
    assert osp.isfile(info['img_path'])
    assert [per_caption.get_data_info(i)['text'] for i in range(5)] == info['captions']
    assert info['captions'][0] == [a['caption'] for a in anns if a['image_id'] == 1][0].strip()


def test_caption_dataset_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        CocoCaptionDataset(ann_file=str(tmp_path / 'missing.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(images=[])))
    with pytest.raises(ValueError, match='"annotations"'):
        CocoCaptionDataset(ann_file=str(bad))
    with pytest.raises(ValueError, match='sample_per'):
        CocoCaptionDataset(ann_file=str(bad), sample_per='word')


def test_tokenize_transform():
    tokenizer = CLIPTokenizer(context_length=16, pad_token='eot')
    transform = TokenizeXDecoderText(keys=dict(text='caption', captions='all_caption'),
                                     context_length=16)
    out = transform(dict(text='A red circle.', captions=['a red circle', 'two shapes on grass']))
    ids = tokenizer('A red circle.')[0]
    assert torch.equal(out['caption_tokens'], ids)
    # SOT + "a red circle ." (4 BPE tokens) + EOT valid, the EOT padding not
    assert out['caption_mask'].tolist() == [True] * 6 + [False] * 10
    assert out['all_caption_tokens'].shape == (2, 16)
    assert out['all_caption_mask'].sum(dim=1).tolist() == [5, 6]
    assert tokenizer.decode(out['all_caption_tokens'][1]) == 'two shapes on grass'
    with pytest.raises(KeyError, match='`text` missing'):
        TokenizeXDecoderText(required=('text', ))(dict(img_path='x.jpg'))
    with pytest.raises(TypeError, match='string'):
        transform(dict(text=3))


def test_configs_parse():
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(CONFIG_DIR, 'xdecoder_*.py')))
    assert {'xdecoder_shapesworld_panoptic.py', 'xdecoder_shapesworld_refcoco.py',
            'xdecoder_shapesworld_caption.py', 'xdecoder_shapesworld_joint.py',
            'xdecoder_coco_panoptic.py', 'xdecoder_refcocog.py', 'xdecoder_coco_caption.py',
            'xdecoder_coco_retrieval.py', 'xdecoder_coco_joint.py'} <= set(names)
    for name in names:
        cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
        assert 'train_dataloader' in cfg and 'val_evaluator' in cfg, name
    lsj = Config.fromfile(osp.join(CONFIG_DIR, 'xdecoder_coco_panoptic.py')).train_pipeline
    resize = [t for t in lsj if t['type'] == 'mmdet.RandomResize'][0]
    assert resize['ratio_range'] == (0.1, 2.0) and resize['scale'] == (1024, 1024)
    retrieval = Config.fromfile(osp.join(CONFIG_DIR, 'xdecoder_coco_retrieval.py'))
    assert retrieval.val_evaluator == dict(type='RetrievalMetric', topk=(1, 5, 10),
                                           match_identical_captions=False)
    assert retrieval.val_dataloader.dataset.pipeline[2]['type'] == 'TokenizeXDecoderText'


def test_shapesworld_panoptic_config(shapesworld_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'xdecoder_shapesworld_panoptic.py'))
    train = _build(cfg.train_dataset, shapesworld_root)[0]['data_samples']
    assert train.task == 'panoptic'
    labels = train.gt_instances.labels
    assert len(labels) == len(train.gt_instances.masks) > 0
    assert int(labels.max()) < 7
    val = _build(cfg.val_dataset, shapesworld_root)
    assert len(val) == 16
    assert val[0]['inputs'].shape[-2:] == (96, 96)


def test_shapesworld_refcoco_config(shapesworld_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'xdecoder_shapesworld_refcoco.py'))
    sample = _build(cfg.train_dataset, shapesworld_root)[0]['data_samples']
    num = len(sample.text)
    assert sample.task == 'referring'
    assert sample.grd_tokens.shape == (num, 77) and sample.grd_mask.shape == (num, 77)
    assert len(sample.gt_instances.masks) == num
    tokenizer = CLIPTokenizer()
    assert tokenizer.decode(sample.grd_tokens[0]) == tokenizer.decode(tokenizer(sample.text[0])[0])
    val = _build(cfg.val_dataset, shapesworld_root)[0]['data_samples']
    assert isinstance(val.text, str)
    gt = val.gt_sem_seg.data
    assert set(gt.unique().tolist()) <= {0, 1} and int(gt.sum()) > 0


def test_shapesworld_caption_config_and_metrics(shapesworld_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'xdecoder_shapesworld_caption.py'))
    train = _build(cfg.train_dataset, shapesworld_root)
    assert len(train) == 5 * 64
    sample = train[0]
    assert sample['inputs'].shape == (3, 64, 64)
    assert sample['data_samples'].caption_tokens.shape == (77, )
    val = _build(cfg.val_dataset, shapesworld_root)
    assert len(val) == 16
    val_sample = val[0]['data_samples']
    assert val_sample.all_caption_tokens.shape == (5, 77)
    assert len(val_sample.captions) == 5
    # the configured metrics run on such samples: references as predictions score high
    from mmengine.evaluator import Evaluator
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        evaluator = Evaluator(_point_to(cfg.to_dict()['val_evaluator'], shapesworld_root))
    preds = []
    for i in range(len(val)):
        s = val[i]['data_samples']
        emb = torch.nn.functional.one_hot(torch.tensor(i), 16).float()
        preds.append(dict(img_id=s.img_id, pred_caption=s.captions[0], image_embeds=emb,
                          text_embeds=emb.expand(5, -1)))
    evaluator.process(preds)
    metrics = evaluator.evaluate(len(preds))
    # one of the five references verbatim: BLEU-4 100 (clipped against that reference); CIDEr-D
    # averages over all five references (measured 287.7), far above a constant caption
    assert metrics['caption/BLEU-4'] > 99 and metrics['caption/CIDEr'] > 150
    assert metrics['retrieval/i2t_R@1'] == 100 and metrics['retrieval/t2i_R@1'] == 100
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        constant = Evaluator(_point_to(cfg.to_dict()['val_evaluator'][0], shapesworld_root))
    constant.process([dict(p, pred_caption='a picture of shapes') for p in preds])
    assert constant.evaluate(len(preds))['caption/CIDEr'] < 50
