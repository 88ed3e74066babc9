# Copyright (c) mmgen_vision contributors. All rights reserved.
"""The README's model-zoo table, generated from the metafiles that ``model-index.yml`` imports.

    python tools/misc/model_zoo_table.py            # print the table
    python tools/misc/model_zoo_table.py --update   # rewrite it in README.md, between the markers
    python tools/misc/model_zoo_table.py --check    # exit 1 if README.md is out of date

One row per model: method, model (linked to its config), its results (task, dataset and the
metrics as written in the metafile, one result per line), where the numbers come from (the
metafile's ``Source`` of each result, shortened to ``paper`` / ``paper, not reproduced`` /
``reproduced`` / ``reproduced (toy)``) and the weights (the official checkpoint and the script
that converts it, or why there is none). The table sits in README.md between
``<!-- model-zoo:begin -->`` and ``<!-- model-zoo:end -->``; everything else in the file is left
alone.

The metafiles are read as plain YAML with every scalar kept as the text written there, so a
metric written ``0.080`` stays ``0.080``.
"""
import argparse
import os.path as osp
import re
import sys
from typing import Dict, List, Optional

import yaml

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
BEGIN = '<!-- model-zoo:begin -->'
END = '<!-- model-zoo:end -->'
HEADER = ('| method | model | results (task, dataset: metrics) | numbers | weights |\n'
          '|---|---|---|---|---|')


def load_yaml(path: str) -> dict:
    """A YAML file with every scalar as written (``yaml.BaseLoader``: no float conversion)."""
    with open(path, encoding='utf-8') as f:
        return yaml.load(f, Loader=yaml.BaseLoader)


def load_metafiles(index_file: str) -> List[dict]:
    """The metafiles imported by ``index_file``, in import order.

    Returns:
        list[dict]: One dict per metafile with its ``path`` (relative to the index) and
        ``data`` (the parsed YAML).
    """
    index = load_yaml(index_file)
    imports = index.get('Import') if isinstance(index, dict) else None
    if not imports:
        raise ValueError(f'{index_file} imports no metafile (expected an "Import" list)')
    root = osp.dirname(osp.abspath(index_file))
    metafiles = []
    for rel in imports:
        path = osp.join(root, rel)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{index_file} imports {rel}, which does not exist')
        metafiles.append(dict(path=rel, data=load_yaml(path)))
    return metafiles


def _cell(text: str) -> str:
    """Text that is safe inside a markdown table cell."""
    return ' '.join(str(text).split()).replace('|', '\\|')


def format_metrics(metrics: Optional[Dict[str, str]]) -> str:
    """``{'RMSE': '0.288', 'd1': '0.950'}`` -> ``RMSE 0.288, d1 0.950``."""
    if not metrics:
        return '-'
    return ', '.join(f'{name} {value}' for name, value in metrics.items())


def format_weights(model: dict) -> str:
    """The weights cell: a link to the checkpoint, plus the conversion / download step."""
    weights = model.get('Weights')
    if not weights:
        return '-'
    if not str(weights).startswith(('http://', 'https://')):
        return _cell(weights)  # a sentence saying why there are none
    name = weights.rstrip('/').rsplit('/', 1)[-1]
    cell = f'[{name}]({weights})'
    for key, verb in (('Converted From', 'convert with'), ('Download', 'fetch with')):
        command = (model.get(key) or {}).get('Command')
        if command:
            script = re.search(r'(tools/\S+\.py)', command)
            tool = script.group(1) if script else command.split()[0]
            cell += f', {verb} `{tool}`'
    return cell


def source_label(source: Optional[str]) -> str:
    """Short form of a result's ``Source``: ``paper``, ``paper, not reproduced``,
    ``reproduced`` or ``reproduced (toy)``."""
    if not source:
        return '-'
    source = str(source)
    if source.startswith('paper'):
        label = 'paper'
        if 'not reproduced' in source or 'not measured' in source:
            label += ', not reproduced'
        return label
    if source.startswith('reproduced'):
        return 'reproduced (toy)' if 'toy' in source else 'reproduced'
    raise ValueError(f'a result\'s Source must start with "paper" or "reproduced": {source!r}')


def model_zoo_rows(metafiles: List[dict]) -> List[str]:
    """Markdown rows, one per model of every metafile (its results one per line)."""
    rows = []
    for metafile in metafiles:
        data = metafile['data']
        collections = {c['Name']: c for c in data.get('Collections') or []}
        for model in data.get('Models') or []:
            method = model.get('In Collection', '-')
            readme = (collections.get(method) or {}).get('README')
            method_cell = f'[{method}]({readme})' if readme else method
            config = model.get('Config')
            model_cell = f'[{model["Name"]}]({config})' if config else model['Name']
            results, labels = [], []
            for result in model.get('Results') or []:
                results.append(_cell(f'{result.get("Task", "-")}, {result.get("Dataset", "-")}: '
                                     f'{format_metrics(result.get("Metrics"))}'))
                label = source_label(result.get('Source'))
                if label not in labels:
                    labels.append(label)
            rows.append('| ' + ' | '.join([
                method_cell, model_cell, '<br>'.join(results) or '-', '<br>'.join(labels) or '-',
                format_weights(model)
            ]) + ' |')
    return rows


def model_zoo_table(index_file: str) -> str:
    """The whole table (header and rows), without the markers."""
    return '\n'.join([HEADER] + model_zoo_rows(load_metafiles(index_file)))


def replace_between_markers(text: str, table: str) -> str:
    """``text`` with the part between :data:`BEGIN` and :data:`END` replaced by ``table``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f'the README must hold exactly one "{BEGIN}" followed by one "{END}"')
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f'{head}{BEGIN}\n{table}\n{END}{tail}'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the README model-zoo table from the metafiles')
    parser.add_argument('--index', default=osp.join(REPO_ROOT, 'model-index.yml'),
                        help='model-index.yml importing the metafiles')
    parser.add_argument('--readme', default=osp.join(REPO_ROOT, 'README.md'),
                        help='the file holding the table between the markers')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--update', action='store_true', help='rewrite the table in the README')
    mode.add_argument('--check', action='store_true',
                      help='exit with status 1 if the README table is not up to date')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    table = model_zoo_table(args.index)
    if not (args.update or args.check):
        print(table)
        return 0
    with open(args.readme, encoding='utf-8') as f:
        text = f.read()
    expected = replace_between_markers(text, table)
    if args.check:
        if expected != text:
            print(f'{args.readme}: the model-zoo table is out of date; run '
                  'python tools/misc/model_zoo_table.py --update', file=sys.stderr)
            return 1
        print(f'{args.readme}: the model-zoo table is up to date')
        return 0
    if expected != text:
        with open(args.readme, 'w', encoding='utf-8') as f:
            f.write(expected)
        print(f'{args.readme}: model-zoo table updated')
    else:
        print(f'{args.readme}: model-zoo table already up to date')
    return 0


if __name__ == '__main__':
    sys.exit(main())
