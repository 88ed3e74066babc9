# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Painter tools: dataset converters, the layer-decay optimiser constructor, the configs and the
benchmark script."""
import glob
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

import mmgen_vision.engine  # noqa: F401
import mmgen_vision.models  # noqa: F401
from conftest import REPO_ROOT, run_tool
from mmgen_vision.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

TOY = osp.join(REPO_ROOT, 'configs/painter/painter_vit-tiny-p4_toy-shapesworld-4tasks_96x48.py')


def _module(path):
    spec = importlib.util.spec_from_file_location(osp.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nyuv2_converter(tmp_path):
    src = tmp_path / 'raw'
    (src / 'scene_a').mkdir(parents=True)
    lines = []
    for i in range(2):
        rgb = np.full((8, 10, 3), 40 * i, np.uint8)
        Image.fromarray(rgb).save(src / 'scene_a' / f'rgb_{i}.jpg')
        Image.fromarray(np.full((8, 10), 1000 + i, np.uint16)).save(
            src / 'scene_a' / f'sync_depth_{i}.png')
        lines.append(f'/scene_a/rgb_{i}.jpg /scene_a/sync_depth_{i}.png 518.8579')
    lines.append('/scene_a/rgb_9.jpg None 518.8579')  # no ground truth: skipped
    split = tmp_path / 'train.txt'
    split.write_text('\n'.join(lines) + '\n')
    out = tmp_path / 'nyu'
    run_tool(['tools/dataset_converters/painter_nyuv2.py', str(src), str(split), str(out)])
    depth = np.asarray(Image.open(out / 'train' / 'depth' / '000002.png'))
    assert depth.dtype == np.uint16 and (depth == 1001).all()
    assert (out / 'train.txt').read_text().split('\n')[0] == (
        'train/rgb/000001.jpg train/depth/000001.png 518.8579')
    # the stock mmseg reader takes the result
    init_default_scope('mmgen_vision')
    from mmgen_vision.registry import DATASETS
    ds = DATASETS.build(dict(type='mmseg.NYUDataset', data_root=str(out),
                             data_prefix=dict(img_path='train/rgb', depth_map_path='train/depth'),
                             pipeline=[dict(type='LoadImageFromFile'),
                                       dict(type='mmseg.LoadDepthAnnotation',
                                            depth_rescale_factor=1e-3)]))
    assert len(ds) == 2 and np.allclose(ds[1]['gt_depth_map'], 1.001)
    (src / 'scene_a' / 'sync_depth_0.png').unlink()
    with pytest.raises(FileNotFoundError, match='sync_depth_0.png'):
        _module(osp.join(REPO_ROOT, 'tools/dataset_converters/painter_nyuv2.py')).convert(
            str(src), str(split), str(tmp_path / 'nyu2'), 'train')


def test_restoration_converter(tmp_path):
    conv = _module(osp.join(REPO_ROOT, 'tools/dataset_converters/painter_restoration.py'))
    sidd = tmp_path / 'Data' / '0001_001_S6_00100_00060_3200_L'
    sidd.mkdir(parents=True)
    for k in ('010', '011'):
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(sidd / f'0001_NOISY_SRGB_{k}.PNG')
        Image.fromarray(np.ones((4, 4, 3), np.uint8)).save(sidd / f'0001_GT_SRGB_{k}.PNG')
    pairs = conv.pairs_sidd(str(tmp_path / 'Data'))
    assert [p[2] for p in pairs] == ['0001_001_S6_00100_00060_3200_L_010.png',
                                     '0001_001_S6_00100_00060_3200_L_011.png']
    assert conv.write(pairs, str(tmp_path / 'o' / 'input'), str(tmp_path / 'o' / 'target')) == 2
    target = np.asarray(Image.open(tmp_path / 'o' / 'target' / pairs[0][2]))
    assert (target == 1).all()
    low, high = tmp_path / 'low', tmp_path / 'high'
    low.mkdir()
    high.mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(low / '1.png')
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(high / '1.png')
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(low / '2.png')
    with pytest.raises(FileNotFoundError, match='no target'):
        conv.pairs_by_name(str(low), str(high))
    (low / '2.png').unlink()
    assert [p[2] for p in conv.pairs_by_name(str(low), str(high))] == ['1.png']


def test_layer_decay_constructor():
    model = MODELS.build(dict(
        type='Painter',
        backbone=dict(type='PainterViT', img_size=(16, 8), patch_size=4, embed_dims=16,
                      num_layers=2, num_heads=2, pretrain_img_size=8, merge_index=0,
                      out_indices=(0, 1)),
        head=dict(type='PainterHead', in_channels=16, num_taps=2, patch_size=4, embed_dims=4)))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='LayerDecayOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper',
                               optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay_rate=0.5, num_layers=2)))
    wrapper = ctor(model)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = (group['lr'], group['weight_decay'])
    named = dict(model.named_parameters())
    assert lr_of[id(named['backbone.patch_embed.projection.weight'])] == (0.125, 0.05)
    assert lr_of[id(named['backbone.pos_embed'])] == (0.125, 0.)
    assert lr_of[id(named['backbone.blocks.0.attn.qkv.weight'])] == (0.25, 0.05)
    assert lr_of[id(named['backbone.blocks.1.attn.rel_pos_h'])] == (0.5, 0.)
    assert lr_of[id(named['backbone.blocks.1.ln1.weight'])] == (0.5, 0.)
    assert lr_of[id(named['head.decoder_embed.weight'])] == (1.0, 0.05)
    assert len(lr_of) == len(named)


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(REPO_ROOT, 'configs/painter/*.py'))))
def test_configs_parse_and_build(path):
    cfg = Config.fromfile(path)
    model = dict(cfg.model)
    if model['type'] == 'PainterPromptTuner':
        model = dict(model['painter'])
    model['init_cfg'] = None
    with torch.device('meta'):
        built = MODELS.build(model)
    n = sum(p.numel() for p in built.parameters())
    if 'vit-large' in path:
        assert built.backbone.grid == (56, 28) and 360e6 < n < 380e6
    assert cfg.default_scope == 'mmgen_vision'


def test_paper_config_reads_like_the_paper():
    cfg = Config.fromfile(osp.join(REPO_ROOT,
                                   'configs/painter/painter_vit-large-p16_8tasks_896x448.py'))
    optim = cfg.optim_wrapper
    assert optim.optimizer.lr == 1e-3 and optim.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.8
    assert optim.clip_grad.max_norm == 3.0 and optim.type == 'AmpOptimWrapper'
    assert optim.accumulative_counts == 16
    assert cfg.train_cfg.max_iters == 54000 and cfg.param_scheduler[0].end == 5400
    assert cfg.model.backbone.drop_path_rate == 0.1
    w = cfg.train_dataloader.sampler.weights
    assert w == dict(nyuv2_depth=0.1, ade20k_semantic=0.2, coco_instance=0.15, coco_semantic=0.25,
                     coco_pose=0.2, sidd_denoise=0.15, derain=0.05, lol_enhance=0.05)
    toy = Config.fromfile(TOY)
    assert toy.model.backbone.num_layers == 4 and toy.model.head.embed_dims == 32


def test_benchmark_script_runs(tmp_path):
    out = tmp_path / 'bench.json'
    run_tool(['tools/analysis_tools/benchmark_painter.py', TOY, '--batch-size', '2', '--iters',
              '2', '--queries', '4', '--device', 'cpu', '--out', str(out)],
             env={'OMP_NUM_THREADS': '2'})
    result = json.loads(out.read_text())
    for key in ('train_img_per_s', 'latency_ms_per_query_uncached', 'latency_ms_per_query_cached',
                'train_peak_memory_mb', 'cache_speedup'):
        assert result[key] > 0, key
    assert result['cache_max_abs_diff'] < 1e-4  # the cached path paints the same images
