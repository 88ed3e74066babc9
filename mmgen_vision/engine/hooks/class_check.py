# Copyright (c) mmgen_vision contributors. All rights reserved.
"""One source of truth for the class list: the dataset's ``metainfo['classes']``.

A config names the number of classes in many places besides the dataset: the head's
``num_classes`` (or ``num_things_classes`` + ``num_stuff_classes``), the classification loss's
``class_weight`` (K + 1 entries with a no-object weight for the query-based heads of
Mask2Former / DETR / GLID, K for mmseg's decode heads), Painter's codecs (the dataset's and
``model.codecs``) and the open-vocabulary models' ``class_names``. Nothing in MMEngine compares
them, so a 7-class head trains on 5-class data without a word. :func:`check_classes` compares
every one of them with the dataset and raises :class:`ClassMismatchError` naming both places
and the key to change; :class:`ClassConsistencyHook` (registered by ``CheckedRunner``) runs it
before the first training, validation or test iteration. :func:`check_coco_label_order` also
refuses a COCO json whose category order is not the order of the dataset's classes (mmdet
numbers the labels in the json's order).
"""
import ast
import json
import mmap
import os.path as osp
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmgen_vision.registry import HOOKS
from mmgen_vision.utils.deprecation import TASK_ALIASES

#: Model sub-trees whose ``num_classes`` is not the dataset's (backbones with an ImageNet head,
#: Painter's codecs, which are checked against their own dataset, text towers).
_SKIPPED_SUBTREES = ('backbone', 'data_preprocessor', 'codecs', 'text_encoder', 'lang_encoder',
                     'pretrained', 'init_cfg')


_KNOB = ('is a variable of the config: a base config substitutes it into the settings that use '
         'it when that file is parsed, so setting it in a child config (or with --cfg-options) '
         "changes nothing. Set the settings themselves: the dataset's metainfo=dict(classes=...) "
         'and the head / loss / codec keys sized by it (docs/own_data.md lists them per method).')


class ClassMismatchError(ValueError):
    """The dataset's classes and a setting that depends on them disagree."""


def _classes_of(dataset: Any) -> Optional[Tuple[str, ...]]:
    metainfo = getattr(dataset, 'metainfo', None) or {}
    classes = metainfo.get('classes') if isinstance(metainfo, Mapping) else None
    return tuple(classes) if classes else None


def _unwrap(dataset: Any) -> Any:
    """The dataset that holds the classes, below RepeatDataset / ClassBalancedDataset."""
    while _classes_of(dataset) is None and hasattr(dataset, 'dataset') and not hasattr(
            dataset, 'codec'):
        dataset = dataset.dataset
    return dataset


def _walk(node: Any, path: str) -> Iterator[Tuple[str, Mapping]]:
    """``(dotted path, dict)`` of ``node`` and every dict below it, skipping foreign sub-trees."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            if key in _SKIPPED_SUBTREES:
                continue
            yield from _walk(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _walk(value, f'{path}.{index}')


def _names(classes: Sequence[str], limit: int = 8) -> str:
    shown = ', '.join(map(str, classes[:limit]))
    return shown + (', ...' if len(classes) > limit else '')


def _assigned_names(filename: Optional[str]) -> frozenset:
    """Names a Python config file assigns at module level (not those of its bases)."""
    if not filename or not str(filename).endswith('.py') or not osp.isfile(filename):
        return frozenset()
    with open(filename, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename)
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def check_model_classes(model_cfg: Mapping, classes: Sequence[str], where: str) -> List[str]:
    """Compare every class-count setting of ``model_cfg`` with ``classes``.

    Args:
        model_cfg (Mapping): The config's ``model``.
        classes (Sequence[str]): The dataset's ``metainfo['classes']``.
        where (str): The dataset's config key, for the message (``'train_dataloader.dataset'``).

    Returns:
        list[str]: Notes for the log (open-vocabulary phrases that stand for the dataset's
        classes).

    Raises:
        ClassMismatchError: Naming the model key, its value, the dataset and its classes.
    """
    num = len(classes)
    data = (f"{where} has {num} classes ({_names(classes)}; from its metainfo['classes'], the "
            'one source of truth)')
    notes = []
    for path, node in _walk(model_cfg, 'model'):
        value = node.get('num_classes')
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            if value != num:
                raise ClassMismatchError(
                    f'{path}.num_classes={value} but {data}. Set {path}.num_classes={num} '
                    f"(and every setting sized by it), or give the dataset metainfo=dict("
                    f'classes=...) with {value} names.')
        things, stuff = node.get('num_things_classes'), node.get('num_stuff_classes')
        if isinstance(things, int) and isinstance(stuff, int):
            if things + stuff != num:
                raise ClassMismatchError(
                    f'{path}.num_things_classes + {path}.num_stuff_classes = {things} + {stuff} '
                    f'but {data}. Set them to the numbers of thing and stuff classes of the '
                    'dataset (thing classes first).')
        for loss_key in ('loss_cls', 'loss_decode'):
            loss = node.get(loss_key)
            if not isinstance(loss, Mapping) or not isinstance(loss.get('class_weight'),
                                                               (list, tuple)):
                continue
            weights = loss['class_weight']
            # query-based heads (loss_cls) score K classes + "no object"; mmseg's pixel
            # classifiers (loss_decode) K
            expected = num + 1 if loss_key == 'loss_cls' else num
            if len(weights) != expected:
                extra = (' (one weight per class plus the no-object weight last)'
                         if expected == num + 1 else ' (one weight per class)')
                raise ClassMismatchError(
                    f'{path}.{loss_key}.class_weight has {len(weights)} entries but {data}: '
                    f'set {path}.{loss_key}.class_weight to {expected} entries{extra}, e.g. '
                    f'[1.0] * {num}' + (' + [0.1].' if expected == num + 1 else '.'))
    names = model_cfg.get('class_names')
    # X-Decoder's referring / caption / retrieval tasks do not classify the dataset's classes
    task = model_cfg.get('task')
    per_class = task is None or TASK_ALIASES.get(task, task) in ('semantic', 'instance', 'panoptic')
    if per_class and isinstance(names, (list, tuple)) and names:
        if len(names) != num:
            raise ClassMismatchError(
                f'model.class_names has {len(names)} names ({_names(names)}) but {data}. '
                f'Set model.class_names to {num} names, one per dataset class in its order '
                '(or to the dataset\'s classes themselves).')
        # X-Decoder training splits the targets by model.thing_classes (matched against
        # class_names): things from gt_instances, the others from the semantic map
        things = model_cfg.get('thing_classes') if where.startswith('train') else None
        if isinstance(things, (list, tuple)) and things:
            foreign = [t for t in things if t not in names]
            if foreign:
                raise ClassMismatchError(
                    f'model.thing_classes ({_names(things)}) names classes that are not in '
                    f'model.class_names ({_names(names)}): {_names(foreign)}. Set '
                    'model.thing_classes to the thing classes among yours, or to None when '
                    'every class comes as masks (e.g. SemSegToInstances on a mask folder).')
        differing = [f'{c!r} as {n!r}' for c, n in zip(classes, names) if c != n]
        if differing:
            notes.append('model.class_names prompts the dataset classes ' +
                         ', '.join(differing) + ' (phrases in the dataset\'s class order).')
    return notes


def _painter_pairs(dataset_cfg: Any, dataset: Any, path: str) -> Iterator[Tuple[str, Any, Any]]:
    """``(config path, dataset config, dataset)`` of every Painter dataset with a codec."""
    if not isinstance(dataset_cfg, Mapping):
        return
    if hasattr(dataset, 'codec') or hasattr(dataset, 'codecs'):
        yield path, dataset_cfg, dataset
        return
    children = getattr(dataset, 'datasets', None)
    if isinstance(dataset_cfg.get('datasets'), (list, tuple)) and children is not None:
        for index, (child_cfg, child) in enumerate(zip(dataset_cfg['datasets'], children)):
            yield from _painter_pairs(child_cfg, child, f'{path}.datasets.{index}')
    elif isinstance(dataset_cfg.get('dataset'), Mapping) and hasattr(dataset, 'dataset'):
        yield from _painter_pairs(dataset_cfg['dataset'], dataset.dataset, f'{path}.dataset')


def check_painter_codecs(model_cfg: Mapping, dataset_cfg: Mapping, dataset: Any,
                         where: str) -> None:
    """Painter: each dataset codec's ``num_classes`` = its dataset's classes = the model's codec.

    A ``SemanticCodec`` paints class ``c`` with a colour computed from ``num_classes``, so a
    dataset encoded with 5 classes and a model decoding with 7 read different classes from the
    same colours (identical only while both use the same palette base).
    """
    model_codecs = model_cfg.get('codecs') or {}
    for path, cfg, pair in _painter_pairs(dataset_cfg, dataset, where):
        codecs = {cfg.get('task'): ('codec', cfg.get('codec'))}
        if isinstance(cfg.get('prompts'), Mapping):
            codecs = {task: (f'prompts.{task}.codec', prompt.get('codec'))
                      for task, prompt in cfg['prompts'].items() if isinstance(prompt, Mapping)}
        classes = _classes_of(_unwrap(getattr(pair, 'dataset', None)))
        for task, (key, codec) in codecs.items():
            if not isinstance(codec, Mapping) or not isinstance(codec.get('num_classes'), int):
                continue
            value = codec['num_classes']
            if classes is not None and value != len(classes):
                raise ClassMismatchError(
                    f'{path}.{key}.num_classes={value} but its dataset {path}.dataset has '
                    f"{len(classes)} classes ({_names(classes)}; from its metainfo['classes']). "
                    f'Set {path}.{key}.num_classes={len(classes)}.')
            model_codec = model_codecs.get(task) if isinstance(model_codecs, Mapping) else None
            if isinstance(model_codec, Mapping) and isinstance(model_codec.get('num_classes'),
                                                               int):
                if model_codec['num_classes'] != value:
                    raise ClassMismatchError(
                        f"{path}.{key}.num_classes={value} (how the dataset paints classes) but "
                        f"model.codecs.{task}.num_classes={model_codec['num_classes']} (how the "
                        'model decodes them): the same colour would mean different classes. '
                        f'Set model.codecs.{task}.num_classes={value}.')


def _json_categories(path: str) -> Optional[List[dict]]:
    """The top-level ``categories`` list of a COCO json, found without parsing the whole file
    (a COCO training json is hundreds of MB; its categories are a few KB, usually last)."""
    key = b'"categories"'
    decoder = json.JSONDecoder()
    with open(path, 'rb') as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        end = len(mm)
        while True:
            pos = mm.rfind(key, 0, end)
            if pos < 0:
                return None
            colon = mm.find(b':', pos + len(key))
            window = 1 << 16
            while True:
                text = mm[colon + 1:colon + 1 + window].decode('utf-8', errors='replace')
                try:
                    value, _ = decoder.raw_decode(text.lstrip())
                    break
                except json.JSONDecodeError:
                    if colon + 1 + window >= len(mm):
                        value = None
                        break
                    window *= 4
            if isinstance(value, list) and value and all(
                    isinstance(c, dict) and 'id' in c and 'name' in c for c in value):
                return value
            end = pos


def check_coco_label_order(dataset: Any, where: str) -> None:
    """Refuse a COCO file whose categories do not give ``metainfo['classes']`` its labels.

    mmdet's ``CocoDataset`` (and ``CocoPanopticDataset``) numbers the labels in the order of
    the json's ``categories``, whatever the order of ``metainfo['classes']``, and silently
    drops the classes the json does not have. A class list in another order then names every
    label wrongly (text prompts, class names of the predictions), and a missing class shifts
    the labels after it.

    Args:
        dataset (Dataset): A built dataset (unwrapped); checked when it has the ``cat_ids``
            of mmdet's COCO datasets and a local ``ann_file`` (its ``categories`` are read
            again, since mmdet drops its ``coco`` API after loading).
        where (str): Its config key, for the message.

    Raises:
        ClassMismatchError: The json's category order (or its set of names) differs from
            ``metainfo['classes']``.
    """
    cat_ids, classes = getattr(dataset, 'cat_ids', None), _classes_of(dataset)
    ann_file = getattr(dataset, 'ann_file', None)
    if cat_ids is None or classes is None or not ann_file or not osp.isfile(str(ann_file)):
        return  # not an mmdet COCO dataset, or its file is not local
    coco = getattr(dataset, 'coco', None)  # mmdet deletes it after loading
    if coco is not None and hasattr(coco, 'cats'):
        names = {i: c['name'] for i, c in coco.cats.items()}
    else:
        categories = _json_categories(str(ann_file))
        if categories is None:
            return
        names = {c['id']: c['name'] for c in categories}
        # what CocoDataset.load_data_list does: the json's categories whose names are listed
        cat_ids = [c['id'] for c in categories if c['name'] in classes]
    json_names = [names[i] for i in cat_ids]
    if tuple(json_names) == classes:
        return
    missing = [c for c in classes if c not in json_names]
    if missing:
        raise ClassMismatchError(
            f'{where}.metainfo classes ({_names(classes)}) include {_names(missing)}, which '
            f'{ann_file} has no category of: mmdet numbers the labels of the categories it '
            f'finds (json order: {_names(json_names)}), so every label after a missing class '
            f'would be named wrongly. Remove the class from {where}.metainfo=dict(classes=...) '
            f'or add the category to the json.')
    raise ClassMismatchError(
        f'{ann_file} lists its categories as ({_names(json_names)}) and mmdet numbers the '
        f'labels in that order, not in the order of {where}.metainfo classes '
        f'({_names(classes)}): label 0 would be trained as {json_names[0]!r} and named '
        f'{classes[0]!r}. Set {where}.metainfo=dict(classes={tuple(json_names)!r}) (the '
        "json's order) or reorder the json's categories.")


def check_classes(cfg: Mapping, dataset: Any, where: str) -> List[str]:
    """Check a built dataset against every setting of ``cfg`` that depends on its classes.

    Args:
        cfg (Mapping): The full config (``model`` and the dataloader configs).
        dataset (Dataset): The built dataset of ``cfg[where]``.
        where (str): Its config key, e.g. ``'train_dataloader.dataset'``.

    Returns:
        list[str]: Notes for the log.

    Raises:
        ClassMismatchError: See :func:`check_model_classes` and :func:`check_painter_codecs`.
    """
    model_cfg = cfg.get('model') or {}
    first, *rest = where.split('.')
    node: Any = cfg.get(first)  # a Config is no Mapping; its values are
    for key in rest:
        node = node.get(key) if isinstance(node, Mapping) else None
    dataset_cfg = node if isinstance(node, Mapping) else {}
    check_painter_codecs(model_cfg, dataset_cfg, dataset, where)
    if hasattr(dataset, 'codec') or hasattr(dataset, 'codecs'):
        return []  # Painter: the codecs are the model's only class-sized settings
    check_coco_label_order(_unwrap(dataset), where)
    classes = _classes_of(_unwrap(dataset))
    if classes is None:
        return []  # no class list (depth, captions, several sources)
    try:
        notes = check_model_classes(model_cfg, classes, where)
    except ClassMismatchError as err:
        value = cfg.get('num_classes')
        if value == len(classes) and 'num_classes' in _assigned_names(
                getattr(cfg, 'filename', None)):  # expected to reach the head
            raise ClassMismatchError(
                f'{err} Note: the top-level num_classes = {value} does not reach the model: '
                f'it {_KNOB}') from None
        raise
    check_class_variables(cfg, classes, where)
    return notes


def check_class_variables(cfg: Mapping, classes: Sequence[str], where: str) -> None:
    """Refuse top-level ``num_classes`` / ``classes`` variables that disagree with the data.

    A base config's ``num_classes = 7`` is substituted into its head when that file is parsed;
    a child config that sets ``num_classes = 5`` only changes the variable, which nothing
    reads. Such a variable, assigned in the config file itself (not inherited, where it may
    just be stale) and disagreeing with the dataset, is a knob that did nothing.
    """
    knob = _KNOB
    own = _assigned_names(getattr(cfg, 'filename', None))
    value = cfg.get('num_classes') if 'num_classes' in own else None
    if isinstance(value, int) and not isinstance(value, bool) and value != len(classes):
        raise ClassMismatchError(
            f'num_classes = {value} but {where} has {len(classes)} classes '
            f'({_names(classes)}). num_classes {knob}')
    task = (cfg.get('model') or {}).get('task')
    per_class = TASK_ALIASES.get(task, task) in (None, 'semantic', 'instance', 'panoptic')
    names = cfg.get('classes') if per_class and 'classes' in own else None
    if isinstance(names, (list, tuple)) and names and tuple(names) != tuple(classes):
        raise ClassMismatchError(
            f'classes = ({_names(names)}) but {where} has the classes ({_names(classes)}). '
            f'classes {knob}')


@HOOKS.register_module()
class ClassConsistencyHook(Hook):
    """Run :func:`check_classes` on the train / val / test dataset before the loop starts.

    ``CheckedRunner`` registers it; add it to ``custom_hooks`` to use it with another runner.
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, split: str) -> None:
        loop = getattr(runner, f'{split}_loop')
        dataset = getattr(loop.dataloader, 'dataset', None)
        if dataset is None:
            return
        for note in check_classes(runner.cfg, dataset, f'{split}_dataloader.dataset'):
            print_log(note, logger='current')

    def before_train(self, runner) -> None:
        self._check(runner, 'train')

    def before_val(self, runner) -> None:
        self._check(runner, 'val')

    def before_test(self, runner) -> None:
        self._check(runner, 'test')
