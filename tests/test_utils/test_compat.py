# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Importing mmgen_vision patches nothing; ``setup_compat()`` does, explicitly (issue 17 §4)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Runs in a fresh interpreter: what the libraries look like before and after an import.
SNAPSHOT = r'''
import json, sys
import mmdet.apis.det_inferencer as det_inferencer
import mmdet.evaluation.functional.panoptic_utils as panoptic_utils
import mmdet.evaluation.metrics.coco_panoptic_metric as panoptic_metric
from mmdet.datasets.refcoco import RefCocoDataset
from mmengine.fileio.io import file_handlers
from mmengine.runner.checkpoint import CheckpointLoader

def name(obj):
    if callable(obj) and hasattr(obj, '__qualname__'):
        return f'{obj.__module__}.{obj.__qualname__}'
    return repr(obj)

def snapshot():
    return dict(
        pkl=type(file_handlers['pkl']).__name__,
        pickle=type(file_handlers['pickle']).__name__,
        schemes={prefix: f'{fn.__module__}.{fn.__name__}'
                 for prefix, fn in CheckpointLoader._schemes.items()},
        panopticapi='panopticapi' in sys.modules,
        metric_panopticapi=name(panoptic_metric.panopticapi),
        metric_pqstat=name(getattr(panoptic_metric, 'PQStat', None)),
        utils_pqstat=name(getattr(panoptic_utils, 'PQStat', None)),
        inferencer_id2rgb=name(getattr(det_inferencer, 'id2rgb', None)),
        refcoco_load=RefCocoDataset.load_data_list.__module__,
    )

before = snapshot()
IMPORTS
after_import = snapshot()
from mmgen_vision.utils import setup_compat
setup_compat()
after_setup = snapshot()
setup_compat()
print(json.dumps(dict(before=before, after_import=after_import, after_setup=after_setup,
                      again=snapshot())))
'''


def _run(imports: str) -> dict:
    proc = subprocess.run([sys.executable, '-c', SNAPSHOT.replace('IMPORTS', imports)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def bare_import() -> dict:
    return _run('import mmgen_vision')


def test_bare_import_changes_nothing(bare_import):
    assert bare_import['after_import'] == bare_import['before']
    assert not bare_import['after_import']['panopticapi']
    assert bare_import['before']['pkl'] == 'PickleHandler'


def test_importing_every_subpackage_changes_nothing():
    result = _run('import mmgen_vision.datasets, mmgen_vision.models, mmgen_vision.evaluation, '
                  'mmgen_vision.visualization, mmgen_vision.engine, mmgen_vision.apis')
    changed = {key: (value, result['after_import'][key])
               for key, value in result['before'].items() if result['after_import'][key] != value}
    assert not changed, f'importing the package patched other libraries: {changed}'


def test_setup_compat_installs_everything_once(bare_import):
    after = bare_import['after_setup']
    assert after['pkl'] == after['pickle'] == 'SafePickleHandler'
    assert after['schemes'][''] == 'mmgen_vision.utils.checkpoint.load_local_checkpoint'
    assert after['schemes']['s3://'] == 'mmgen_vision.utils.checkpoint.load_backend_checkpoint'
    assert after['panopticapi']
    for key in ('metric_pqstat', 'utils_pqstat', 'inferencer_id2rgb', 'metric_panopticapi'):
        assert 'mmgen_vision' in after[key] or 'panopticapi' in after[key], (key, after[key])
        assert after[key] != bare_import['before'][key]
    assert after['refcoco_load'] == 'mmdet.datasets.refcoco'  # wrapped with functools.wraps
    assert bare_import['again'] == after  # idempotent


def test_register_all_modules_sets_up_compat():
    result = _run('from mmgen_vision.utils import register_all_modules\n'
                  'register_all_modules(init_default_scope=False)\n'
                  'after_register = snapshot()\n'
                  'assert after_register["pkl"] == "SafePickleHandler", after_register\n'
                  'assert after_register["panopticapi"], after_register\n'
                  'from mmgen_vision.registry import MODELS, INFERENCERS, TRANSFORMS\n'
                  'assert "PeekabooSegmentor" in MODELS.module_dict\n'
                  'assert "SegInferencer" in INFERENCERS.module_dict\n'
                  'assert "LoadImageFromFile" in TRANSFORMS.module_dict')
    assert result['after_import']['pkl'] == 'SafePickleHandler'
