#!/usr/bin/env python
# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Packaging for mmgen_vision.

Like the OpenMMLab codebases, the package carries its ``configs/`` and ``tools/`` under
``mmgen_vision/.mim`` so that ``mim train mmgen_vision <config>`` finds them: symlinks for an
editable/development install, copies for wheels and sdists.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'mmgen_vision', 'version.py'), encoding='utf-8') as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname: str) -> list:
    """Read a requirements file, following ``-r`` includes and dropping comments."""
    reqs = []
    with open(osp.join(ROOT, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(osp.join(osp.dirname(fname), line[3:].strip()))
            elif not line.startswith('-'):
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Place configs/tools/model-index.yml under ``mmgen_vision/.mim``."""
    building_dist = any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist', 'install'))
    mode = 'copy' if building_dist else 'symlink'
    mim_root = osp.join(ROOT, 'mmgen_vision', '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for item in MIM_ITEMS:
        src = osp.join(ROOT, item)
        dst = osp.join(mim_root, item)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_root), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        version=get_version(),
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs', 'projects*')),
        include_package_data=True,
        package_data={'mmgen_vision': ['.mim/**/*', 'datasets/transforms/*.txt']},
        python_requires='>=3.10',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False,
    )
