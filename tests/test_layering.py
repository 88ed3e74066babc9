# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Imports only point down the layer list of ``/work/shared/DESIGN.md`` / docs/architecture.md.

Layers, lowest first::

    registry / utils -> datasets, models/common, models/codecs -> models/<method> ->
    evaluation, visualization -> engine -> apis

Every ``import`` / ``from ... import`` of every package module is parsed (``ast``, nothing is
imported), including imports inside functions; only ``if TYPE_CHECKING:`` blocks are exempt.
Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` as well, so the target's
layer is the highest layer among the module and its parent packages (importing
``mmgen_vision.models.common.x`` runs ``mmgen_vision/models/__init__.py``, which builds every
method: from ``datasets`` that points up).
"""
import ast
import os
import os.path as osp
from typing import Iterator, List, Optional, Tuple

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = 'mmgen_vision'

#: ``(module prefix, layer)``; the longest matching prefix wins.
LAYERS = [
    ('mmgen_vision', 0),  # the package's __init__ (version check, registers nothing else)
    ('mmgen_vision.version', 0),
    ('mmgen_vision.registry', 0),
    ('mmgen_vision.utils', 0),
    ('mmgen_vision.datasets', 1),
    ('mmgen_vision.models.common', 1),
    ('mmgen_vision.models.codecs', 1),
    ('mmgen_vision.models', 2),  # models/__init__.py and models/<method>
    ('mmgen_vision.testing', 2),  # builders of tiny test models; the runtime never imports it
    ('mmgen_vision.evaluation', 3),
    ('mmgen_vision.visualization', 3),
    ('mmgen_vision.engine', 4),
    ('mmgen_vision.apis', 5),
]


def layer_of(module: str) -> int:
    """The layer of a dotted module name inside the package (longest matching prefix)."""
    best, best_len = None, -1
    for prefix, layer in LAYERS:
        if (module == prefix or module.startswith(prefix + '.')) and len(prefix) > best_len:
            best, best_len = layer, len(prefix)
    assert best is not None, module
    return best


def executed_layer(module: str, importer: str = '') -> Tuple[int, str]:
    """The highest layer that importing ``module`` runs: the module and its parent packages,
    except the packages of ``importer`` (they already ran before it).

    Returns:
        tuple[int, str]: The layer and the (parent) module that has it.
    """
    parts = module.split('.')
    worst = (-1, module)
    for end in range(1, len(parts) + 1):
        name = '.'.join(parts[:end])
        if importer == name or importer.startswith(name + '.'):
            continue
        worst = max(worst, (layer_of(name), name))
    return worst


def package_modules() -> Iterator[Tuple[str, str]]:
    """``(dotted module name, path)`` of every ``.py`` file of the package."""
    root = osp.join(REPO_ROOT, PACKAGE)
    for folder, _, files in os.walk(root):
        for file in sorted(files):
            if not file.endswith('.py'):
                continue
            path = osp.join(folder, file)
            rel = osp.relpath(path, REPO_ROOT)[:-3].split(os.sep)
            if rel[-1] == '__init__':
                rel = rel[:-1]
            yield '.'.join(rel), path


def _is_type_checking(test: ast.expr) -> bool:
    return ((isinstance(test, ast.Name) and test.id == 'TYPE_CHECKING')
            or (isinstance(test, ast.Attribute) and test.attr == 'TYPE_CHECKING'))


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> List[Tuple[int, str]]:
    """``(line, absolute module)`` of every package import outside ``TYPE_CHECKING`` blocks.

    ``from . import x`` also imports the submodule ``x`` when it is one, so both the package and
    ``package.x`` are listed.
    """
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            if base is not None:
                found.append((node.lineno, base))
                found.extend((node.lineno, f'{base}.{alias.name}') for alias in node.names
                             if alias.name != '*' and _is_module(f'{base}.{alias.name}'))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [(line, name) for line, name in found
            if name == PACKAGE or name.startswith(PACKAGE + '.')]


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> Optional[str]:
    if node.level == 0:
        return node.module
    parts = module.split('.')
    if not is_package:
        parts = parts[:-1]
    parts = parts[:len(parts) - (node.level - 1)]
    return '.'.join(parts + ([node.module] if node.module else []))


def _is_module(name: str) -> bool:
    path = osp.join(REPO_ROOT, *name.split('.'))
    return osp.isfile(path + '.py') or osp.isfile(osp.join(path, '__init__.py'))


def upward_imports() -> List[str]:
    """Every import of the package that points up the layer list, as readable lines."""
    problems = []
    for module, path in package_modules():
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), filename=path)
        own = layer_of(module)
        is_package = path.endswith('__init__.py')
        for line, target in imported_modules(tree, module, is_package):
            if target == module or module.startswith(target + '.'):
                continue  # a package's own parents are already running
            layer, culprit = executed_layer(target, module)
            if layer > own:
                problems.append(f'{osp.relpath(path, REPO_ROOT)}:{line} ({module}, layer {own}) '
                                f'imports {target}, which runs {culprit} (layer {layer})')
    return problems


def test_layer_table_covers_every_module():
    for module, _ in package_modules():
        layer_of(module)


def test_no_upward_imports():
    problems = upward_imports()
    assert not problems, 'imports pointing up the layer list:\n' + '\n'.join(problems)


@pytest.mark.parametrize('source, expected', [
    ('from mmgen_vision.apis import SegInferencer\n', True),
    ('import mmgen_vision.models.common.clip_tokenizer\n', True),  # runs models/__init__
    ('from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mmgen_vision.apis\n', False),
    ('def f():\n    from ..engine import hooks\n', True),  # lazy imports count too
    ('from mmgen_vision.registry import MODELS\nfrom . import safe_load\n', False),
])
def test_checker_flags_upward_imports(source, expected):
    """The checker itself: a utils module importing these is (not) flagged."""
    tree = ast.parse(source)
    imports = imported_modules(tree, 'mmgen_vision.utils.example', is_package=False)
    flagged = any(executed_layer(target)[0] > 0 for _, target in imports)
    assert flagged is expected
