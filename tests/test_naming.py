# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The naming rules of docs/architecture.md ("Naming") hold across the package."""
import glob
import inspect
import io
import os.path as osp
import re
import tokenize

from mmgen_vision.registry import MODELS
from mmgen_vision.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Argument names replaced by the mmcv / mmpretrain ones (old -> new).
RENAMED = dict(embed_dim='embed_dims', hidden_dim='embed_dims', ffn_dim='feedforward_channels',
               ffn_ratio='mlp_ratio', conv_dim='feat_channels', mask_dim='mask_channels')

# ``[B, N, C]``-style shapes: a bracket not indexing anything, two or more comma-separated
# dimensions (letters, digits, + - * /), none of them a type name, a quoted string or a number
# range such as ``[0, 1]``.
_BRACKETS = re.compile(r'(?<![\w\]\).])\[([^\[\]\n]{1,60})\]')
_DIM = re.compile(r'[A-Za-z0-9_+\-*/ .]+')
_NOT_A_SHAPE = re.compile(r'\b(Tensor|int|str|float|dict|list|bool|ndarray|Optional|List|Dict|'
                          r'Tuple|Sequence|None|np|torch|class|CLS|sin)\b|min_|max_|'
                          r'group_tokens')


def _bracket_shapes(text):
    for match in _BRACKETS.finditer(text):
        dims = [d.strip() for d in match.group(1).split(',')]
        if (len(dims) >= 2 and all(d and _DIM.fullmatch(d) for d in dims)
                and not all(re.fullmatch(r'-?[\d.]+', d) for d in dims)
                and not _NOT_A_SHAPE.search(match.group(1))):
            yield match.group(0)


def _docs_and_comments(path):
    """Docstrings (string statements) and comments of a module, with their line numbers."""
    with open(path, encoding='utf-8') as f:
        tokens = list(tokenize.generate_tokens(io.StringIO(f.read()).readline))
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
        elif tok.type == tokenize.STRING:
            j = i - 1
            while j >= 0 and tokens[j].type in (tokenize.NL, tokenize.COMMENT):
                j -= 1
            if j < 0 or tokens[j].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                yield tok.start[0], tok.string


def test_docstring_shapes_are_written_as_tuples():
    found = []
    for path in sorted(
            glob.glob(osp.join(REPO_ROOT, 'mmgen_vision', 'models', '**', '*.py'), recursive=True)):
        for line, text in _docs_and_comments(path):
            found += [
                f'{osp.relpath(path, REPO_ROOT)}:{line}: {shape}' for shape in _bracket_shapes(text)
            ]
    assert not found, 'write shapes as ``(B, N, C)``:\n' + '\n'.join(found)


def test_shape_detector_tells_shapes_from_ranges_and_lists():
    text = ('``x [B, N, C]``, ``[B * h, L, L]``, values in [0, 1], x[B, :], List[Tensor, int], '
            "['a', 'b'], [min_depth, max_depth], ``cat([x, group_tokens])``")
    assert list(_bracket_shapes(text)) == ['[B, N, C]', '[B * h, L, L]']


def test_registered_modules_take_the_new_argument_names():
    register_all_modules()
    offenders = []
    for name, cls in MODELS.module_dict.items():
        if not inspect.isclass(cls) or not cls.__module__.startswith('mmgen_vision'):
            continue
        params = inspect.signature(cls.__init__).parameters
        offenders += [f'{name}({old}) -> {RENAMED[old]}' for old in params if old in RENAMED]
        if 'depth' in params and 'depths' not in params:
            offenders.append(f'{name}(depth) -> num_layers')
    assert not offenders, offenders
