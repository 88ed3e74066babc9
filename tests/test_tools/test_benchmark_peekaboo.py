# Copyright (c) mmgen_vision contributors. All rights reserved.
"""tools/analysis_tools/benchmark_peekaboo.py on the toy semantic config and a tiny random SD.

Two settings (one guide call vs one call per composite), two timed iterations: the JSON and
the Markdown table must be written, with positive seconds per image and iteration, the
expected number of UNet calls per iteration and a memory figure.
"""
import importlib.util
import json
import os.path as osp

import pytest

from conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs/peekaboo/peekaboo_tiny-sd_shapesworld-voc.py')


@pytest.fixture(scope='module')
def tool():
    path = osp.join(REPO_ROOT, 'tools/analysis_tools/benchmark_peekaboo.py')
    spec = importlib.util.spec_from_file_location('tool_benchmark_peekaboo', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_two_settings(tool, tmp_path):
    out_json, out_md = str(tmp_path / 'bench.json'), str(tmp_path / 'bench.md')
    result = tool.main([
        CONFIG, '--tiny-sd', str(tmp_path / 'tiny_sd'), '--num-captions', '3',
        '--images-per-batch', '1', '--mask-size', '16', '--image-size', '32',
        '--num-iters', '2', '--warmup-iters', '0', '--compare-batching', '--out-json',
        out_json, '--out-md', out_md
    ])
    with open(out_json) as f:
        saved = json.load(f)
    assert saved['results'] == json.loads(json.dumps(result['results']))
    rows = saved['results']
    assert [r['max_guide_batch'] for r in rows] == [None, 1]
    for row in rows:
        assert row['seconds_per_image'] > 0 and row['seconds_per_iter'] > 0
        assert row['composites_per_iter'] == 3
        assert row['unet_calls_per_iter'] == row['expected_unet_calls_per_iter']
        assert row['peak_mem_mib'] is not None and row['peak_mem_mib'] > 0
    assert [r['unet_calls_per_iter'] for r in rows] == [1, 3]
    assert rows[0]['time_vs_one_call'] == 1.0
    assert saved['environment']['device'] == 'cpu'
    with open(out_md) as f:
        table = f.read()
    assert '| B | n_b | k |' in table
    assert len([line for line in table.splitlines() if line.startswith('| 1 |')]) == 2


def test_guide_batch_argument(tool):
    assert tool._guide_batch('none') is None
    assert tool._guide_batch('4') == 4
    with pytest.raises(SystemExit):  # argparse rejects it
        tool.parse_args([CONFIG, '--max-guide-batch', '0.5'])
    args = tool.parse_args([CONFIG, '--max-guide-batch', 'none', '4', '--compare-batching'])
    assert args.max_guide_batch == [None, 4, 1]


def test_random_sd_arguments(tool):
    args = tool.parse_args([CONFIG, '--tiny-sd', 'd'])  # the old name is an alias
    assert (args.random_sd, args.random_sd_arch) == ('d', 'tiny')
    args = tool.parse_args([CONFIG, '--random-sd', 'd', '--random-sd-arch', 'sd-v1'])
    assert (args.random_sd, args.random_sd_arch) == ('d', 'sd-v1')
    result = dict(random_sd='d', random_sd_arch='sd-v1')
    assert tool.random_sd_note(result) == ' (random-weight SD, architecture sd-v1)'
    assert tool.random_sd_note(dict(random_sd=None, random_sd_arch=None)) == ''
