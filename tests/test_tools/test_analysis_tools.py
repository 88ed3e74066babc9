# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The analysis tools: benchmark, get_flops, analyze_logs and print_config.

The tools are scripts (there is no ``tools`` package): each is loaded from its path and its
functions, or its ``main(argv)``, are called in-process. All on CPU with the toy config.
"""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT, TOY_SEG_CONFIG

from mmgen_vision.utils import load_config


def _load_tool(relpath: str):
    path = osp.join(REPO_ROOT, relpath)
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def benchmark_tool():
    return _load_tool('tools/analysis_tools/benchmark.py')


@pytest.fixture(scope='module')
def flops_tool():
    return _load_tool('tools/analysis_tools/get_flops.py')


@pytest.fixture(scope='module')
def logs_tool():
    return _load_tool('tools/analysis_tools/analyze_logs.py')


@pytest.fixture(scope='module')
def print_config_tool():
    return _load_tool('tools/misc/print_config.py')


def _toy_options(shapesworld_root: str, **extra) -> dict:
    """Point the toy config at the generated data, without dataloader workers."""
    data_root = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    options = {}
    for split in ('train', 'val', 'test'):
        options.update({f'{split}_dataloader.dataset.data_root': data_root,
                        f'{split}_dataloader.num_workers': 0,
                        f'{split}_dataloader.persistent_workers': False})
    options.update(extra)
    return options


def _cli_options(options: dict) -> list:
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


# ----------------------------------------------------------------------------- benchmark
def test_benchmark_cli_measures_train_and_inference_and_writes_json(
        benchmark_tool, shapesworld_root, tmp_path, capsys):
    out = tmp_path / 'bench' / 'result.json'
    options = _toy_options(shapesworld_root, **{'train_dataloader.batch_size': 2})
    result = benchmark_tool.main([
        TOY_SEG_CONFIG, '--mode', 'both', '--num-iters', '3', '--warmup', '1', '--device', 'cpu',
        '--out', str(out)
    ] + _cli_options(options))

    train, infer = result['train'], result['inference']
    assert train['iters'] == 3 and train['batch_size'] == 2 and train['samples'] == 6
    assert train['iter_per_s'] > 0
    assert train['samples_per_s'] == pytest.approx(2 * train['iter_per_s'])
    # the loop time is the data time plus the step time of every iteration
    loop_ms = 3 * (train['step_time_ms']['mean'] + train['data_time_ms']['mean'])
    assert loop_ms <= train['total_time_s'] * 1000 * 1.05
    assert 0 < train['step_time_ms']['min'] <= train['step_time_ms']['mean']
    assert infer['batch_size'] == 1 and infer['iters'] == 3
    assert infer['latency_ms']['mean'] > 0 and infer['latency_ms']['std'] >= 0
    assert infer['latency_ms'] == infer['step_time_ms']
    assert train['peak_memory_mib'] > 0 and infer['peak_memory_mib'] > 0
    assert result['memory_kind'] == 'process_peak_rss'
    assert result['optim_wrapper'] == 'OptimWrapper'
    assert result['env']['torch'] == torch.__version__ and result['env']['device'] == 'cpu'

    with open(out) as f:
        written = json.load(f)
    assert written['train']['iter_per_s'] == pytest.approx(train['iter_per_s'])
    assert written['inference']['latency_ms']['mean'] == pytest.approx(
        infer['latency_ms']['mean'])
    assert written['config'] == TOY_SEG_CONFIG and written['env']['torch'] == torch.__version__
    table = capsys.readouterr().out
    assert '| train ' in table and '| inference ' in table and 'samples/s' in table


def test_benchmark_one_phase_and_cpu_amp(benchmark_tool, shapesworld_root):
    cfg = load_config(
        TOY_SEG_CONFIG, _toy_options(shapesworld_root, **{'train_dataloader.batch_size': 2}))
    result = benchmark_tool.benchmark(cfg, mode='train', num_iters=1, warmup=0, device='cpu',
                                      amp=True)
    assert 'inference' not in result and result['train']['iter_per_s'] > 0
    assert result['optim_wrapper'] == 'CPUAmpOptimWrapper' and result['amp'] is True
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper'  # not modified
    # bfloat16 autocast on every inference step (a context manager entered once per step)
    result = benchmark_tool.benchmark(cfg, mode='inference', num_iters=2, warmup=1,
                                      device='cpu', amp=True)
    assert 'train' not in result and 'optim_wrapper' not in result
    assert result['inference']['latency_ms']['mean'] > 0


def test_benchmark_refuses_bad_arguments(benchmark_tool):
    cfg = Config.fromfile(TOY_SEG_CONFIG)
    with pytest.raises(ValueError, match='mode must be one of'):
        benchmark_tool.benchmark(cfg, mode='training')
    with pytest.raises(ValueError, match='num_iters'):
        benchmark_tool.benchmark(cfg, mode='train', num_iters=0)
    with pytest.raises(SystemExit):
        benchmark_tool.parse_args([TOY_SEG_CONFIG, '--num-iters', '0'])


# ----------------------------------------------------------------------------- get_flops
def test_flops_grow_with_the_input_area(flops_tool):
    cfg = load_config(TOY_SEG_CONFIG)
    small = flops_tool.get_flops(cfg, shape=(96, 96))
    large = flops_tool.get_flops(cfg, shape=(192, 192))
    assert small['flops'] > 0 and small['params'] > 0
    assert small['compute_type'] == 'direct' and large['input_shape'] == (1, 3, 192, 192)
    assert 3 < large['flops'] / small['flops'] < 5  # a fully convolutional network
    assert large['params'] == small['params']
    # the parameters are those of the model (no auxiliary head in this config)
    model_params = sum(p.numel() for p in flops_tool.MODELS.build(cfg.model).parameters())
    assert small['params'] == model_params


def test_flops_default_input_is_a_test_sample_or_the_config_size(flops_tool, shapesworld_root):
    direct = flops_tool.get_flops(load_config(TOY_SEG_CONFIG), shape=(96, 96))
    cfg = load_config(TOY_SEG_CONFIG, _toy_options(shapesworld_root))
    sample = flops_tool.get_flops(cfg)
    # the test pipeline resizes the 96x96 images to (96, 96): the same network cost
    assert sample['compute_type'] == 'dataloader' and sample['input_shape'] == (1, 3, 96, 96)
    assert sample['flops'] == direct['flops']
    cfg = load_config(TOY_SEG_CONFIG, {'test_dataloader.dataset.data_root': '/nonexistent/ade'})
    fallback = flops_tool.get_flops(cfg)
    assert fallback['compute_type'] == 'config' and fallback['input_shape'] == (1, 3, 96, 96)
    assert fallback['flops'] == direct['flops']


def test_get_flops_cli_prints_the_table(flops_tool, capsys):
    flops_tool.main([TOY_SEG_CONFIG, '--shape', '64', '--show-table'])
    out = capsys.readouterr().out
    assert 'Input shape: (1, 3, 64, 64)' in out and 'Flops:' in out and 'Params:' in out
    assert 'decode_head' in out and 'backbone.layer4' in out  # the per-module table


# ----------------------------------------------------------------------------- analyze_logs
TRAIN_TIMES = [0.9, 0.31, 0.29, 0.35, 0.27]  # the first includes the start-up


def _write_log(root, losses, mious, times=TRAIN_TIMES) -> str:
    """A work dir with one run whose scalars.json looks like MMEngine's (iteration-based)."""
    vis_dir = root / '20240101_000000' / 'vis_data'
    vis_dir.mkdir(parents=True)
    lines = []
    for i, (loss, t) in enumerate(zip(losses, times)):
        step = 10 * (i + 1)
        lines.append(dict(lr=1e-3 / step, data_time=0.01, loss=loss, time=t, iter=step, step=step))
        if i in mious:  # a validation after this iteration; its time must not count
            lines.append(dict(aAcc=80.0, mIoU=mious[i], data_time=0.002, time=7.5, step=step))
    (vis_dir / 'scalars.json').write_text('\n'.join(json.dumps(x) for x in lines) + '\n')
    return str(root)


def test_cal_train_time_averages_the_training_lines(logs_tool, tmp_path, capsys):
    log = _write_log(tmp_path / 'run', [2.0, 1.5, 1.2, 1.0, 0.9], {1: 20.0, 4: 40.0})
    stats = logs_tool.cal_train_time(log, include_outliers=True)
    assert stats['average'] == pytest.approx(np.mean(TRAIN_TIMES), rel=1e-12)
    assert stats['num_entries'] == 5 and stats['slowest'] == (10, 0.9)
    stats = logs_tool.cal_train_time(log)  # the start-up line is skipped by default
    assert stats['average'] == pytest.approx(np.mean(TRAIN_TIMES[1:]), rel=1e-12)
    assert stats['slowest'] == (40, 0.35) and stats['fastest'] == (50, 0.27)
    assert stats['std'] == pytest.approx(np.std(TRAIN_TIMES[1:]))
    logs_tool.main(['cal_train_time', log])
    assert f'average iter time: {np.mean(TRAIN_TIMES[1:]):.4f} s/iter' in capsys.readouterr().out


def test_plot_curve_writes_a_png(logs_tool, tmp_path):
    log_a = _write_log(tmp_path / 'a', [2.0, 1.5, 1.2, 1.0, 0.9], {1: 20.0, 4: 40.0})
    log_b = _write_log(tmp_path / 'b', [2.1, 1.7, 1.4, 1.3, 1.1], {4: 30.0})
    curve = logs_tool.get_curve(logs_tool.load_scalars(log_a), 'mIoU')
    assert curve['steps'].tolist() == [20, 50] and curve['values'].tolist() == [20.0, 40.0]
    out = str(tmp_path / 'plots' / 'curve.png')
    logs_tool.main(['plot_curve', log_a, log_b + '/20240101_000000/vis_data/scalars.json',
                    '--keys', 'loss', 'mIoU', '--legend', 'a', 'b', '--out', out])
    with open(out, 'rb') as f:
        png = f.read()
    assert len(png) > 1000 and png[:8] == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(KeyError, match='no "bbox_mAP" in the log.*mIoU'):
        logs_tool.plot_curve([log_a], ['bbox_mAP'], out=out)
    with pytest.raises(ValueError, match='one name per log'):
        logs_tool.plot_curve([log_a, log_b], ['loss'], legend=['a', 'b', 'c'], out=out)
    with pytest.raises(SystemExit, match='no vis_data/scalars.json'):
        logs_tool.main(['cal_train_time', str(tmp_path / 'plots')])


# ----------------------------------------------------------------------------- print_config
def test_print_config_prints_and_saves_the_overridden_config(print_config_tool, tmp_path,
                                                             capsys):
    save_path = str(tmp_path / 'resolved.py')
    print_config_tool.main([TOY_SEG_CONFIG, '--cfg-options', 'model.decode_head.channels=48',
                            'train_cfg.max_iters=7', '--save-path', save_path])
    out = capsys.readouterr().out
    assert 'channels=48' in out and 'max_iters=7' in out
    assert 'ResNetV1c' in out  # the _base_ and the config are merged
    saved = Config.fromfile(save_path)
    assert saved.model.decode_head.channels == 48 and saved.train_cfg.max_iters == 7
    assert saved.default_scope == 'mmgen_vision'


def test_print_config_refuses_misspelt_keys(print_config_tool, tmp_path):
    with pytest.raises(SystemExit, match=r"'model\.bakcbone' does not exist.*'backbone'"):
        print_config_tool.main([TOY_SEG_CONFIG, '--cfg-options', 'model.bakcbone.depth=50'])
    bad_cfg = tmp_path / 'typo.py'
    bad_cfg.write_text(f"_base_ = ['{TOY_SEG_CONFIG}']\ntrian_cfg = dict(max_iters=2)\n")
    with pytest.raises(SystemExit, match="'trian_cfg'.*did you mean 'train_cfg'"):
        print_config_tool.main([str(bad_cfg)])
