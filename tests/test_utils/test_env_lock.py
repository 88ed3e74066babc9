# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The environment equals requirements/lock.txt, and the lock checker sees every difference."""
import os.path as osp

import pytest

from conftest import REPO_ROOT, load_script


def _env_lock():
    return load_script(osp.join(REPO_ROOT, 'tools', 'misc', 'env_lock.py'), 'env_lock')


def test_installed_packages_equal_the_lock():
    # pkg_resources puts setuptools' vendored .dist-info folders on sys.path (as mim does when
    # the suite imports it): they are not installed packages and must not count
    import pkg_resources  # noqa: F401
    env_lock = _env_lock()
    problems = env_lock.compare(env_lock.read_lock(), env_lock.installed())
    assert not problems, 'environment differs from requirements/lock.txt:\n' + '\n'.join(problems)


def test_lock_pins_the_stack_and_its_transitive_packages():
    locked = _env_lock().read_lock()
    for name, version in [('torch', '2.14.1'), ('torchvision', '0.29.1'), ('mmcv', '2.1.0'),
                          ('mmengine', '0.10.7'), ('mmdet', '3.3.0'),
                          ('mmsegmentation', '1.2.2'), ('mmpose', '1.3.2')]:
        assert locked[name] == version
    # transitive packages nobody names in requirements/*.txt are pinned too
    for name in ('filelock', 'sympy', 'huggingface-hub', 'safetensors', 'pip', 'setuptools'):
        assert name in locked, name


def test_compare_reports_missing_extra_and_different(tmp_path):
    env_lock = _env_lock()
    assert env_lock.compare({'a': '1'}, {'a': '1'}) == []
    problems = env_lock.compare({'a': '1', 'b': '2'}, {'a': '1.1', 'c': '3'})
    assert problems == ['a is 1.1, the lock says 1', 'b==2 is locked but not installed',
                        'c==3 is installed but not in the lock']


def test_read_lock_normalises_names_and_refuses_ranges(tmp_path):
    env_lock = _env_lock()
    lock = tmp_path / 'lock.txt'
    lock.write_text('# comment\nFoo_Bar.baz==1.0  # why\n\nopen-clip-torch==2.0\n')
    assert env_lock.read_lock(str(lock)) == {'foo-bar-baz': '1.0', 'open-clip-torch': '2.0'}
    lock.write_text('numpy>=2\n')
    with pytest.raises(ValueError, match=r'lock.txt:1: expected "name==version"'):
        env_lock.read_lock(str(lock))


def test_setup_installs_with_the_lock_and_checks_it():
    with open(osp.join(REPO_ROOT, 'tools', 'setup_env.sh')) as f:
        script = f.read()
    assert 'LOCK_ARGS=(-c "$LOCK")' in script
    assert 'env_lock.py" --check' in script
    with open(osp.join(REPO_ROOT, '.ci', 'run')) as f:
        ci = f.read()
    assert 'make clean-env' in ci and ci.index('make clean-env') < ci.index('make test')
