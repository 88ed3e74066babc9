# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Top-level entry point: render ShapesWorld once and write it in every requested format."""
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from .meta import CLASSES, FORMATS, SHAPESWORLD_VERSION, SPLITS, STUFF_CLASSES, THING_CLASSES
from .scene import render_scene, validate_image_size
from .writers import WRITERS, FormatWriter, SceneRecord, ShardWriter, format_root

META_FILE = 'meta.json'
GENERATOR_NAME = 'shapesworld'


def _check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as int, or raise a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    return int(value)


def check_formats(formats: Union[None, str, Iterable[str]]) -> Tuple[str, ...]:
    """Normalise ``formats`` to a tuple in :data:`FORMATS` order (``None`` = all of them).

    Raises:
        ValueError: On an unknown format name or an empty selection.
    """
    if formats is None:
        return FORMATS
    names = [formats] if isinstance(formats, str) else list(formats)
    unknown = [f for f in names if f not in FORMATS]
    if unknown:
        raise ValueError(f'formats: unknown format name(s) {unknown}; choose from {list(FORMATS)}')
    if not names:
        raise ValueError(f'formats must name at least one of {list(FORMATS)}')
    return tuple(f for f in FORMATS if f in names)


def _read_meta(out_dir: Path) -> Optional[dict]:
    """The ``meta.json`` of an existing ShapesWorld folder, or ``None``."""
    try:
        meta = json.loads((out_dir / META_FILE).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get('generator') == GENERATOR_NAME else None


def _changed_params(meta: Optional[dict], params: dict) -> str:
    """``'num_train 1024 there, 1 asked, ...'`` for every scene parameter in which an existing
    dataset differs from the one asked for ('' when none, or when there is no dataset)."""
    if meta is None:
        return ''
    # opt-in options are recorded only when set
    asked = dict(params, class_colors=params.get('class_colors', False))
    there = {key: meta.get(key, False if key == 'class_colors' else None) for key in asked}
    return ', '.join(f'{key} {there[key]} there, {asked[key]} asked' for key in asked
                     if there[key] != asked[key])


def _is_complete(meta: Optional[dict], params: dict, formats: Sequence[str]) -> bool:
    """Whether an existing dataset has the same parameters and contains every format asked."""
    if meta is None or meta.get('version') != SHAPESWORLD_VERSION:
        return False
    if _changed_params(meta, params):
        return False
    return set(formats) <= set(meta.get('formats', []))


def _make_writers(out_dir: Path, formats: Sequence[str],
                  samples_per_shard: int) -> Sequence[FormatWriter]:
    writers = []
    for fmt in formats:
        if fmt == 'shards':
            writers.append(ShardWriter(out_dir, samples_per_shard))
        else:
            writers.append(WRITERS[fmt](out_dir))
    return writers


def _write_dataset(out_dir: Path, params: dict, formats: Sequence[str]) -> dict:
    """Render every scene once and stream it through the writers; return per-split statistics."""
    writers = _make_writers(out_dir, formats, params['samples_per_shard'])
    counts = {'train': params['num_train'], 'val': params['num_val']}
    first_id = {'train': 1, 'val': params['num_train'] + 1}
    stats = {}
    next_ann_id = 1
    for split in SPLITS:
        split_stats = {'images': 0, 'objects': 0}
        split_stats.update({name: 0 for name in THING_CLASSES})
        for index in range(counts[split]):
            scene = render_scene(params['seed'], split, index, params['image_size'],
                                 class_colors=params.get('class_colors', False))
            ann_ids = list(range(next_ann_id, next_ann_id + len(scene.objects)))
            next_ann_id += len(scene.objects)
            record = SceneRecord(scene, first_id[split] + index, ann_ids)
            for writer in writers:
                writer.add(record)
            split_stats['images'] += 1
            split_stats['objects'] += len(scene.objects)
            for obj in scene.objects:
                split_stats[obj.category] += 1
        stats[split] = split_stats
    for writer in writers:
        writer.finish()
    return stats


def _install(tmp_dir: Path, out_dir: Path) -> None:
    """Move the finished ``tmp_dir`` to ``out_dir``, replacing an old dataset there."""
    old_dir = None
    if out_dir.exists():
        old_dir = Path(tempfile.mkdtemp(prefix=f'.{out_dir.name}.old-', dir=out_dir.parent))
        os.replace(out_dir, old_dir / out_dir.name)
    os.replace(tmp_dir, out_dir)
    if old_dir is not None:
        shutil.rmtree(old_dir, ignore_errors=True)


def dataset_roots(out_dir: Union[str, os.PathLike], formats: Sequence[str]) -> Dict[str, str]:
    """Format name -> data root (the ``data_root`` the stock dataset classes take)."""
    return {fmt: str(format_root(Path(out_dir), fmt)) for fmt in formats}


def generate_shapesworld(out_dir: Union[str, os.PathLike] = 'data/shapesworld',
                         num_train: int = 64,
                         num_val: int = 16,
                         image_size: int = 96,
                         seed: int = 0,
                         formats: Union[None, str, Iterable[str]] = None,
                         force: bool = False,
                         samples_per_shard: int = 16,
                         class_colors: bool = False) -> Dict[str, str]:
    """Render ShapesWorld and write it in real dataset layouts under ``out_dir``.

    The same arguments always give byte-identical files. A finished dataset is recorded in
    ``out_dir/meta.json``; a later call with the same parameters whose formats are already there
    returns at once (unless ``force``); with the same parameters but a format missing, the formats
    already there are written again along with the new ones. Files are written to a hidden
    temporary folder next to ``out_dir`` that replaces ``out_dir`` only once complete, so an
    interrupted run never leaves a dataset that looks finished.

    Args:
        out_dir (str | PathLike): Dataset root. Defaults to ``'data/shapesworld'``.
        num_train (int): Training scenes (>= 1). Defaults to 64.
        num_val (int): Validation scenes (>= 1). Defaults to 16.
        image_size (int): Image side in pixels, 64-128. Defaults to 96.
        seed (int): Non-negative seed; scene ``i`` of a split depends only on the seed,
            the split, ``i`` and ``image_size``. Defaults to 0.
        formats (str | Iterable[str], optional): Subset of ``FORMATS`` (``coco``, ``ade``,
            ``voc``, ``nyu``, ``restoration``, ``refcoco``, ``shards``, ``imagenet``).
            Defaults to all.
        force (bool): Regenerate even if an identical dataset exists, and replace a non-empty
            ``out_dir`` that is not a ShapesWorld dataset or holds one with other scene
            parameters (without it both are refused and kept). Defaults to False.
        samples_per_shard (int): Samples per webdataset tar. Defaults to 16.
        class_colors (bool): Opt-in easier variant: every shape is painted in the colour of
            its class (``CLASS_COLOR_NAMES``: red circles, green squares, blue triangles,
            yellow stars) instead of a random colour; layouts and masks are those of the default
            dataset. Recorded in ``meta.json`` only when True. Defaults to False.

    Returns:
        dict[str, str]: Format name -> data root path, for the requested formats.

    Raises:
        ValueError: On a bad argument (the message names it).
        FileExistsError: If ``force`` is False and ``out_dir`` is a non-empty folder that is not
            a ShapesWorld dataset, or a ShapesWorld with other scene parameters (the message
            names them).
    """
    params = {
        'num_train': _check_int('num_train', num_train, 1),
        'num_val': _check_int('num_val', num_val, 1),
        'image_size': validate_image_size(image_size),
        'seed': _check_int('seed', seed, 0),
        'samples_per_shard': _check_int('samples_per_shard', samples_per_shard, 1),
    }
    if not isinstance(class_colors, bool):
        raise ValueError(f'class_colors must be a bool, got {class_colors!r}')
    if class_colors:  # only recorded when set: default datasets stay byte-identical
        params['class_colors'] = True
    fmts = check_formats(formats)
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ValueError(f'out_dir must be a non-empty path, got {out_dir!r}')
    out_path = Path(out_dir).absolute()
    existing = _read_meta(out_path)
    if not force and _is_complete(existing, params, fmts):
        return dataset_roots(out_path, fmts)
    if out_path.exists() and not out_path.is_dir():
        raise FileExistsError(f'out_dir {out_path} exists and is not a folder')
    if not force and existing is None and out_path.is_dir() and any(out_path.iterdir()):
        raise FileExistsError(f'out_dir {out_path} is not empty and holds no ShapesWorld '
                              f'{META_FILE}; pass force=True to replace it')
    changed = _changed_params(existing, params)
    if not force and changed:
        raise FileExistsError(
            f'out_dir {out_path} holds another ShapesWorld ({changed}); it is kept: choose '
            'another out_dir, or pass force=True (--force) to replace it')
    if not force and _is_complete(existing, params, ()):
        # same scenes, more formats: keep the formats already there
        fmts_to_write = check_formats(set(fmts) | set(existing['formats']))
    else:
        fmts_to_write = fmts
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f'.{out_path.name}.tmp-', dir=out_path.parent))
    try:
        stats = _write_dataset(tmp_dir, params, fmts_to_write)
        meta = {
            'generator': GENERATOR_NAME,
            'version': SHAPESWORLD_VERSION,
            **params,
            'formats': list(fmts_to_write),
            'roots': {
                fmt: str(format_root(Path('.'), fmt))
                for fmt in fmts_to_write
            },
            'classes': list(CLASSES),
            'thing_classes': list(THING_CLASSES),
            'stuff_classes': list(STUFF_CLASSES),
            'stats': stats,
        }
        (tmp_dir / META_FILE).write_text(json.dumps(meta, indent=2) + '\n')
        if not force and _is_complete(_read_meta(out_path), params, fmts):
            shutil.rmtree(tmp_dir)  # a concurrent run finished the same dataset first
        else:
            _install(tmp_dir, out_path)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return dataset_roots(out_path, fmts)
