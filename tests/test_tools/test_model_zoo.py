# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Model-zoo metadata: metafiles, model-index.yml, the README table, and what mim sees."""
import glob
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import yaml

from conftest import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TABLE_TOOL = osp.join(REPO, 'tools', 'misc', 'model_zoo_table.py')


def _load_tool():
    return load_script(TABLE_TOOL, 'model_zoo_table')


def _metafiles():
    return sorted(glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yml')))


def _models():
    for path in _metafiles():
        with open(path, encoding='utf-8') as f:
            for model in yaml.safe_load(f)['Models']:
                yield osp.relpath(path, REPO), model


def test_model_index_imports_every_metafile():
    with open(osp.join(REPO, 'model-index.yml'), encoding='utf-8') as f:
        imports = yaml.safe_load(f)['Import']
    assert sorted(imports) == sorted(osp.relpath(p, REPO) for p in _metafiles())
    assert len(_metafiles()) == 5


def test_every_model_has_results_and_weights():
    names = []
    for metafile, model in _models():
        where = f'{metafile}: {model["Name"]}'
        names.append(model['Name'])
        assert osp.isfile(osp.join(REPO, model['Config'])), where
        results = model.get('Results')
        assert isinstance(results, list) and results, f'{where} has no Results'
        for result in results:
            assert {'Task', 'Dataset', 'Metrics', 'Source'} <= set(result), where
            assert result['Metrics'], where
            # where the numbers come from: the paper (official release) or measured here
            assert re.match(r'(paper|reproduced)\b', result['Source']), where
            if 'Config' in result:
                assert osp.isfile(osp.join(REPO, result['Config'])), where
        weights = model.get('Weights')
        assert isinstance(weights, str) and weights.strip(), f'{where} has no Weights'
        if weights.startswith('https://'):
            # an official checkpoint: say how it becomes an mmgen_vision one
            step = model.get('Converted From') or model.get('Download')
            assert step and step['Weights'] == weights and step['Command'], where
            script = re.search(r'(tools/\S+\.py)', step['Command'])
            if script:
                assert osp.isfile(osp.join(REPO, script.group(1))), where
        elif weights.startswith('checkpoints/'):
            # shipped in the repository: the file, its recorded sum, the command that made it
            path = osp.join(REPO, weights.split()[0])
            with open(osp.join(osp.dirname(path), 'SHA256SUMS')) as f:
                assert osp.basename(path) in f.read().split(), where
            assert osp.isfile(path), where
            assert osp.isfile(osp.join(osp.dirname(path), 'COMMAND')), where
        else:
            assert weights.startswith('none'), \
                f'{where}: Weights is neither a URL, a shipped checkpoints/ file nor "none..."'
    assert len(names) == len(set(names)), 'model names must be unique'


def test_glid_says_it_has_no_public_weights():
    for metafile, model in _models():
        if model['In Collection'] == 'GLID' and 'toy' not in model['Name']:
            assert 'released neither code nor weights' in model['Weights']


def test_readme_model_zoo_table_is_in_sync():
    proc = subprocess.run([sys.executable, TABLE_TOOL, '--check'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(osp.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    for _, model in _models():
        assert f'[{model["Name"]}]({model["Config"]})' in readme


def test_table_check_detects_a_stale_readme(tmp_path):
    tool = _load_tool()
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\n{tool.BEGIN}\n| old table |\n{tool.END}\n\nafter\n')
    index = osp.join(REPO, 'model-index.yml')
    assert tool.main(['--index', index, '--readme', str(readme), '--check']) == 1
    assert tool.main(['--index', index, '--readme', str(readme), '--update']) == 0
    text = readme.read_text()
    assert text.startswith('# x\n\n') and text.endswith(f'{tool.END}\n\nafter\n')
    assert '| old table |' not in text and 'painter_vit-large-p16_8tasks_896x448' in text
    assert tool.main(['--index', index, '--readme', str(readme), '--check']) == 0
    # metrics are written as in the metafile (0.080 stays 0.080)
    assert 'AbsRel 0.080' in text
    readme.write_text('no markers\n')
    with pytest.raises(ValueError, match='exactly one'):
        tool.main(['--index', index, '--readme', str(readme), '--check'])


def _mim(*args):
    if importlib.util.find_spec('mim') is None:
        pytest.skip('openmim is not installed')
    env = dict(os.environ, PYTHONPATH='')  # what an installed environment sees, not the tree
    return subprocess.run([sys.executable, '-m', 'mim', *args], capture_output=True, text=True,
                          timeout=300, cwd=str(REPO), env=env)


def test_mim_list_shows_mmgen_vision():
    proc = _mim('list')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    packages = [line.split()[0].replace('-', '_') for line in proc.stdout.splitlines()
                if line.strip()]
    assert 'mmgen_vision' in packages, proc.stdout


def test_mim_search_lists_every_model():
    proc = _mim('search', 'mmgen_vision')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = set(re.findall(r'config id: (\S+)', proc.stdout))
    expected = {model['Name'] for _, model in _models()}
    assert listed == expected, f'missing: {expected - listed}; extra: {listed - expected}'
