# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Smoke test of tools/analysis_tools/glid_partial_loading_ablation.py on a very short
schedule: one (task, load) pair trained and tested through the tools, the table written into a
copy of the README between the markers."""
import importlib.util
import os.path as osp
import shutil

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow

SCRIPT = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'glid_partial_loading_ablation.py')


def _load_script():
    spec = importlib.util.spec_from_file_location('glid_ablation', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toy_pretrained(path: str) -> None:
    """A GLIDPretrainer checkpoint of the toy architecture, built in-process (untrained)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmgen_vision.models  # noqa: F401
    from mmgen_vision.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/glid/glid_toy_shapesworld-pretrain.py'))
    with DefaultScope.overwrite_default_scope('mmgen_vision'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)


def test_table_and_readme_section(tmp_path):
    tool = _load_script()
    results = {'semantic': {'none': dict(value=10.), 'encoder': dict(value=20.5)},
               'depth': {'none': dict(value=3.25)}}
    table = tool.format_table(results, 'setup line')
    lines = table.splitlines()
    assert lines[0] == 'setup line'
    assert lines[4] == '| none | 10.000 | 3.250 |'
    assert lines[5] == '| encoder | 20.500 | - |'
    readme = tmp_path / 'README.md'
    readme.write_text(f'head\n{tool.README_BEGIN}\nold\n{tool.README_END}\ntail\n')
    tool.write_readme(str(readme), table)
    text = readme.read_text()
    assert 'old' not in text and '| none | 10.000 | 3.250 |' in text
    assert text.startswith('head\n') and text.endswith('tail\n')
    readme.write_text('no markers')
    with pytest.raises(ValueError, match='no <!-- glid-partial-loading-ablation'):
        tool.write_readme(str(readme), table)


def test_ablation_runs_end_to_end(tmp_path):
    from mmgen_vision.datasets import generate_shapesworld
    tool = _load_script()
    root = str(tmp_path / 'sw')
    generate_shapesworld(root, num_train=16, num_val=4, image_size=64, seed=0,
                         formats=('ade', ))
    ckpt = str(tmp_path / 'pre.pth')
    _toy_pretrained(ckpt)
    readme = tmp_path / 'README.md'
    shutil.copy(osp.join(REPO_ROOT, 'configs', 'glid', 'README.md'), readme)
    results = tool.main([
        '--work-dir', str(tmp_path / 'work'), '--data-root', root, '--pretrained', ckpt,
        '--tasks', 'semantic', '--loads', 'encoder+decoder+queries', '--max-iters', '2',
        '--readme', str(readme)])
    value = results['semantic']['encoder+decoder+queries']['value']
    assert 0. <= value <= 100.
    assert f'| encoder+decoder+queries | {value:.3f} |' in readme.read_text()
