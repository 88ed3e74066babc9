# Copyright (c) mmgen_vision contributors. All rights reserved.
"""benchmark.py's table over methods x sizes x variants (issue 18): arguments, the paper
configs' data on ShapesWorld, the cell commands and the Markdown table (no model runs here;
tests/test_engine/test_compile_amp.py runs the steps)."""
import os.path as osp

import pytest
from conftest import REPO_ROOT, load_script
from mmengine.config import Config


@pytest.fixture(scope='module')
def bench():
    return load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/benchmark.py'), 'benchmark_table')


def test_config_or_methods(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args([])
    with pytest.raises(SystemExit):
        bench.parse_args(['some_config.py', '--methods', 'all'])
    args = bench.parse_args(['--methods', 'all', '--sizes', 'toy', 'paper'])
    assert args.variants == ['all'] and args.config is None
    assert bench.parse_args(['cfg.py', '--compile']).compile == 'inductor'
    assert bench.parse_args(['cfg.py', '--compile', 'aot_eager']).compile == 'aot_eager'


def test_every_table_config_exists(bench):
    for method, sizes in bench.METHODS.items():
        assert {'toy', 'paper'} <= set(sizes) <= set(bench.SIZES), method
        for train, test in sizes.values():
            assert test is not None
            for config in (train, test):
                assert config is None or osp.isfile(osp.join(REPO_ROOT, 'configs', config))
    assert bench.METHODS['peekaboo']['toy'][0] is None  # training-free


def test_on_shapesworld_rewrites_real_roots(bench):
    cfg = Config(dict(
        train_dataloader=dict(dataset=dict(
            datasets=[dict(data_root='data/coco/', ann_file='annotations/x.json',
                           shards='kept'),
                      dict(data_root='data/image_text/gcc3m', shards='gcc-train-*.tar')])),
        test_dataloader=dict(dataset=dict(data_root='data/VOCdevkit/VOC2012')),
        test_evaluator=dict(ann_file='data/coco/annotations/panoptic_val2017.json'),
        other='data/cocoa'))
    bench.on_shapesworld(cfg, 'sw')
    datasets = cfg.train_dataloader.dataset.datasets
    assert datasets[0].data_root == 'sw/coco/'
    assert datasets[0].ann_file == 'annotations/x.json'  # relative to the root: unchanged
    assert datasets[0].shards == 'kept'  # not an image-text dataset
    assert datasets[1].data_root == 'sw/shards'
    assert datasets[1].shards == 'train-*.tar'  # the ShapesWorld shards, not the GCC names
    assert cfg.test_dataloader.dataset.data_root == 'sw/voc/VOCdevkit/VOC2012'
    assert cfg.test_evaluator.ann_file == 'sw/coco/annotations/panoptic_val2017.json'
    assert cfg.other == 'data/cocoa'  # not a known root


def test_missing_shapesworld_fails_before_any_cell(bench, tmp_path):
    missing = str(tmp_path / 'no_shapesworld')
    with pytest.raises(SystemExit, match=r'no_shapesworld not found.*make data'):
        bench.main([osp.join(REPO_ROOT, 'configs/groupvit/groupvit_gcc-yfcc_zeroshot_voc.py'),
                    '--mode', 'inference', '--shapesworld', missing])
    bench.check_shapesworld(str(tmp_path))  # an existing folder passes


def test_cell_commands(bench):
    args = bench.parse_args(['--methods', 'painter', '--sizes', 'paper', '--num-iters', '2',
                             '--device', 'cpu', '--peekaboo-sd', 'sd_dir'])
    cmd = bench._cell_command('painter/a.py', 'train', 'paper', 'compile+bf16', args, 'o.json')
    assert cmd[cmd.index('--mode') + 1] == 'train' and '--amp' in cmd
    assert cmd[cmd.index('--compile') + 1] == 'inductor'
    assert cmd[cmd.index('--shapesworld') + 1].endswith(osp.join('data', 'shapesworld'))
    cmd = bench._cell_command('peekaboo/b.py', 'inference', 'paper', 'fp32', args, 'o.json')
    assert '--amp' not in cmd and '--compile' not in cmd
    assert 'model.guide.pretrained_path=sd_dir' in cmd


def test_vitb_size_is_the_paper_painter_at_vit_b_size(bench):
    """``--sizes vitb``: issue 18's ViT-B-sized Painter, the paper recipe otherwise."""
    from mmgen_vision.utils import load_config
    train, test = bench.METHODS['painter']['vitb']
    assert train == test
    assert [m for m, sizes in bench.METHODS.items() if 'vitb' in sizes] == ['painter']
    cfg = load_config(osp.join(REPO_ROOT, 'configs', train))
    paper = load_config(osp.join(REPO_ROOT, 'configs', bench.METHODS['painter']['paper'][0]))
    backbone = cfg.model.backbone
    assert (backbone.num_layers, backbone.embed_dims, backbone.num_heads) == (24, 768, 12)
    assert backbone.patch_size == 16 and tuple(backbone.img_size) == (448, 224)
    assert cfg.model.head.in_channels == 768
    datasets = cfg.train_dataloader.dataset.datasets
    assert [d.task for d in datasets] == [d.task for d in paper.train_dataloader.dataset.datasets]
    assert all(tuple(d.img_size) == (224, 224) for d in datasets)  # one half of the canvas
    assert tuple(cfg.test_dataloader.dataset.img_size) == (224, 224)
    assert cfg.test_dataloader.dataset.task == 'ade20k_semantic'
    # the paper's optimizer in fp32 (the variants choose the precision), one update per step
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert 'accumulative_counts' not in cfg.optim_wrapper
    assert cfg.optim_wrapper.optimizer == paper.optim_wrapper.optimizer
    assert cfg.optim_wrapper.paramwise_cfg == paper.optim_wrapper.paramwise_cfg


def test_table_runs_the_sizes_each_method_has(bench, monkeypatch):
    """vitb is Painter's alone; --train-batch-size reaches the training phases only."""
    import subprocess
    commands = []

    def fake_run(cmd, **kwargs):
        commands.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, stdout='', stderr='RuntimeError: not run')

    monkeypatch.setattr(bench.subprocess, 'run', fake_run)
    args = bench.parse_args(['--methods', 'painter', 'groupvit', '--sizes', 'vitb',
                             '--variants', 'bf16', '--train-batch-size', '3',
                             '--device', 'cpu'])
    rows = bench.run_table(args)
    assert [(r['method'], r['size'], r['variant']) for r in rows] == [('painter', 'vitb', 'bf16')]
    assert rows[0]['train'] == dict(error='RuntimeError: not run')
    train, inference = commands
    assert '--shapesworld' in train and '--amp' in train
    assert train[train.index('--cfg-options') + 1:] == ['train_dataloader.batch_size=3']
    assert '--cfg-options' not in inference
    assert '--train-batch-size 3' in bench.format_markdown(rows, args)
    with pytest.raises(SystemExit):
        bench.parse_args(['--methods', 'painter', '--train-batch-size', '0'])
    # --mode inference: the training phase is not run, and the table's command says so
    commands.clear()
    args = bench.parse_args(['--methods', 'groupvit', '--sizes', 'paper', '--variants', 'fp32',
                             '--mode', 'inference', '--device', 'cpu'])
    rows = bench.run_table(args)
    assert rows[0]['train'] == dict(skipped='--mode inference')
    assert len(commands) == 1 and commands[0][commands[0].index('--mode') + 1] == 'inference'
    assert '--mode inference' in bench.format_markdown(rows, args)


def test_flops_of_a_config_without_test_split_count_its_training_forward(shapesworld_root):
    """GroupViT's pre-training config has no test split: one training sample through the
    loss forward (image and text towers), not only the image tower of the tensor forward."""
    from mmgen_vision.utils import load_config, register_all_modules
    flops = load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/get_flops.py'), 'get_flops_g')
    bench = load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/benchmark.py'), 'bench_g')
    register_all_modules(init_default_scope=False)
    cfg = load_config(osp.join(REPO_ROOT, 'configs/groupvit/groupvit_gcc-yfcc_30e_paper.py'))
    bench.on_shapesworld(cfg, shapesworld_root)
    assert 'test_dataloader' not in cfg or not cfg.test_dataloader
    train = flops.get_flops(cfg)
    image = flops.get_flops(cfg, shape=(224, 224))  # the tensor forward: the image tower
    assert train['compute_type'] == 'train_dataloader' and image['compute_type'] == 'direct'
    assert train['input_shape'] == image['input_shape'] == (1, 3, 224, 224)
    # a caption and 3 prompted nouns through the 12-layer text tower: ~0.75 GFLOP each
    assert 2.5e9 < train['flops'] - image['flops'] < 3.5e9


def test_flops_of_painter_training_count_the_network(shapesworld_root):
    """The toy Painter's training config has no test split: one training pair through the
    loss forward. Its block mask used to be filled in place as a boolean tensor, which the JIT
    tracer cannot record (``aten::fill_`` with a bool: an internal assertion), so FLOPs failed
    for every Painter training config; the masks are data and are now built in NumPy."""
    from mmgen_vision.utils import register_all_modules
    flops = load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/get_flops.py'), 'get_flops_p')
    tool = load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/benchmark_compile_amp.py'),
                       'bca_p')
    register_all_modules(init_default_scope=False)
    cfg = tool.toy_config('painter', 'train', shapesworld=shapesworld_root)
    result = flops.get_flops(cfg)
    assert result['compute_type'] == 'train_dataloader'
    # the transformer alone: a 24 x 12 grid of width 128; block 0 on both canvases (image and
    # target streams), blocks 1-3 on the merged stream; per token and block 12 C^2 MACs in the
    # linear layers, and 2 N^2 C for q k^T and the weighted sum of v
    tokens, width, stream_blocks = 24 * 12, 128, 2 + 3
    transformer = stream_blocks * (tokens * 12 * width**2 + 2 * tokens**2 * width)
    # the patch embeddings and the head (convolutions at the canvas size) add about 20 %
    assert transformer < result['flops'] < 1.35 * transformer, (result['flops'], transformer)


def test_markdown_table(bench):
    args = bench.parse_args(['--methods', 'peekaboo', 'glid', '--num-iters', '2', '--warmup',
                             '1', '--device', 'cpu'])
    timed = dict(iter_per_s=4.0, samples_per_s=32.0, latency_ms=dict(mean=12.34),
                 peak_memory_mib=900.4, graphs_warmup=3, graphs_timed=0)
    env = dict(device='cpu', device_name='x86', torch='2.x', torch_threads=1)
    rows = [dict(method='peekaboo', size='toy', variant='bf16', env=env,
                 train=dict(skipped='training-free'), inference=timed),
            dict(method='glid', size='toy', variant='compile', train=timed,
                 inference=dict(error='RuntimeError: boom'))]
    table = bench.format_markdown(rows, args)
    assert '| peekaboo | toy | bf16 | – | – | 12.3 | – / 900 | –; 3 / 0 |' in table
    assert ('| glid | toy | compile | 0.250 | 32.0 | failed | 900 / failed | 3 / 0; failed |'
            in table)
    assert '* glid toy compile inference: RuntimeError: boom' in table
    assert '--methods peekaboo glid' in table and '1 threads' in table


def test_specialised_benchmarks_behind_one_entry_point(bench, capsys):
    """``benchmark.py NAME ARGS`` runs the specialised benchmark with its own arguments."""
    for name, (module, _) in bench.TOOLS.items():
        path = osp.join(REPO_ROOT, 'tools', 'analysis_tools', module + '.py')
        assert osp.isfile(path), name
        with pytest.raises(SystemExit) as exc:
            bench.main([name, '--help'])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f'usage: benchmark.py {name}'), (name, out[:80])
    with pytest.raises(SystemExit):
        bench.main(['--help'])
    out = capsys.readouterr().out
    assert all(name in out for name in bench.TOOLS)


def test_gemm_peak_counts_multiply_adds(monkeypatch):
    flops = load_script(osp.join(REPO_ROOT, 'tools/analysis_tools/get_flops.py'), 'get_flops_t')
    clock = iter([0.0, 10.0, 11.0, 20.0, 20.5])  # untimed start, then repeats of 1.0 and 0.5 s
    monkeypatch.setattr('time.perf_counter', lambda: next(clock))
    assert flops.gemm_peak_flops(size=8, repeats=2) == 8**3 / 0.5  # the best repeat


def test_utilisation_of_each_phase(bench, monkeypatch):
    import sys
    import types

    import torch
    fake = types.ModuleType('get_flops')
    fake.get_flops = lambda cfg, device: dict(flops=2e9, input_shape=(1, 3, 8, 8))
    fake.gemm_peak_flops = lambda device, dtype: {torch.float32: 100e9,
                                                  torch.bfloat16: 200e9}[dtype]
    monkeypatch.setitem(sys.modules, 'get_flops', fake)
    result = dict(amp=True, train=dict(batch_size=4, step_time_ms=dict(mean=400.0)),
                  inference=dict(batch_size=2, step_time_ms=dict(mean=100.0)))
    bench.add_utilisation(result, Config(), 'cpu')
    # train: 3 x 2 GFLOP x 4 samples / 0.4 s = 60 GFLOP/s; inference: 2 x 2 / 0.1 = 40
    assert result['train']['achieved_flops_per_s'] == pytest.approx(60e9)
    assert result['train']['utilisation'] == pytest.approx(0.3)  # of the bf16 peak
    assert result['inference']['utilisation'] == pytest.approx(0.2)
    assert result['flops']['peak_dtype'] == 'bfloat16'
    args = bench.parse_args(['--methods', 'glid', '--flops', '--device', 'cpu'])
    env = dict(device='cpu', device_name='x86', torch='2.x', torch_threads=1)
    timed = dict(iter_per_s=2.5, samples_per_s=10.0, latency_ms=dict(mean=100.0),
                 peak_memory_mib=900.0, graphs_warmup=0, graphs_timed=0)
    row = dict(method='glid', size='toy', variant='bf16', env=env,
               train=dict(timed, **result['train'], flops=result['flops']),
               inference=dict(timed, **result['inference'], flops=result['flops']))
    table = bench.format_markdown([row], args)
    assert '| 0 / 0; 0 / 0 | 60.0 (30 %); 40.0 (20 %) |' in table
    assert 'GFLOP/s: bfloat16 200)' in table and '--flops' in table
    # a config whose FLOPs cannot be counted keeps its timings and says why
    row['train'] = dict(timed, flops_error='RuntimeError: no input size')
    table = bench.format_markdown([row], args)
    assert '| 0 / 0; 0 / 0 | –; 40.0 (20 %) |' in table
    assert '* glid toy bf16 train: FLOPs not counted (RuntimeError: no input size)' in table
