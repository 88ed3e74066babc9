# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Map-style image-text datasets for contrastive pre-training (GroupViT, CLIP-style models).

``ImageTextShardDataset`` reads **webdataset** tar shards in place: the layout that
``img2dataset`` / ``webdataset`` conversions of CC3M, CC12M and YFCC15M use, and that
``tools/dataset_converters/images_to_shards.py`` and the ShapesWorld generator write. A shard is
a plain (uncompressed) tar whose members are grouped into samples by *key*: the member name up to
the first dot of its base name (``00001234.jpg`` and ``00001234.txt`` form sample ``00001234``;
directories inside the tar stay part of the key). Each sample must hold one image
(``.jpg``, ``.jpeg``, ``.png`` or ``.webp``) and one caption (``.txt``, UTF-8); other members
(``.json`` metadata of img2dataset, ...) are ignored.

Unlike webdataset's streaming ``IterableDataset``, every tar is indexed once (member name, data
offset and size, read from the tar headers without extracting anything) so the dataset has a
length and random access: MMEngine's ``DefaultSampler`` / ``InfiniteSampler`` then give exact
epochs, shuffling with ``set_epoch`` and distributed sharding by sample. A sample's bytes are read
lazily by seeking into its tar. An optional ``index_cache`` file keeps the index of big datasets
between runs (a shard is re-indexed when its size or modification time changed).

``ImageTextListDataset`` reads a user's own list of image files and captions, either a CSV file
with an ``image,caption`` header or a JSON (or JSON-lines) list of
``{"image": ..., "caption": ...}`` objects.

Both produce data infos with ``img_path`` and ``text`` (the raw caption); load the image with
``LoadImageFromShard``, which handles both (see ``mmgen_vision/datasets/transforms/image_text.py``).
"""
import csv
import glob
import json
import os
import os.path as osp
import re
import tarfile
from typing import Dict, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmgen_vision.registry import DATASETS

IMAGE_EXTENSIONS = ('jpg', 'jpeg', 'png', 'webp')
TEXT_EXTENSION = 'txt'
INDEX_CACHE_VERSION = 1

_KEY_RE = re.compile(r'^((?:.*/|)[^./]+)\.([^/]*)$')
_BRACE_RE = re.compile(r'\{(\d+)\.\.(\d+)\}')


def split_member_name(name: str):
    """Split a tar member name into ``(key, extension)`` the webdataset way.

    The key is the name up to the first dot of its base name and the extension is the rest,
    lower-cased (``a/b/0001.seg.png`` -> ``('a/b/0001', 'seg.png')``). Names without an
    extension give ``(name, '')``.
    """
    match = _KEY_RE.match(name)
    if match is None:
        return name, ''
    return match.group(1), match.group(2).lower()


def expand_braces(pattern: str) -> List[str]:
    """Expand webdataset's numeric brace ranges: ``train-{000..002}.tar`` -> three names.

    The width of the first bound is kept (zero padding). Several ranges expand as a product.
    """
    match = _BRACE_RE.search(pattern)
    if match is None:
        return [pattern]
    start, stop = match.group(1), match.group(2)
    if int(stop) < int(start):
        raise ValueError(f'empty brace range {match.group(0)} in shard pattern {pattern!r}')
    width = len(start)
    names = []
    for number in range(int(start), int(stop) + 1):
        expanded = pattern[:match.start()] + str(number).zfill(width) + pattern[match.end():]
        names.extend(expand_braces(expanded))
    return names


def index_tar(path: str) -> List[dict]:
    """Index the samples of one webdataset shard.

    Returns one dict per sample, in tar order: ``key``, ``img_member`` (member name),
    ``img_offset``/``img_size`` and ``txt_offset``/``txt_size`` (byte ranges of the data in the
    tar file).

    Raises:
        FileNotFoundError: The shard does not exist.
        ValueError: The tar cannot be read, is truncated, or a sample lacks its image or caption
            or has two images (the message names the shard and the key).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'webdataset shard {path} does not exist')
    file_size = osp.getsize(path)
    samples: Dict[str, dict] = {}
    try:
        with tarfile.open(path, mode='r:') as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, ext = split_member_name(member.name)
                if member.offset_data + member.size > file_size:
                    raise ValueError(f'shard {path} is truncated: member {member.name} ends at '
                                     f'byte {member.offset_data + member.size} of {file_size}')
                if ext in IMAGE_EXTENSIONS:
                    field = 'img'
                elif ext == TEXT_EXTENSION:
                    field = 'txt'
                else:
                    continue
                sample = samples.setdefault(key, dict(key=key))
                if f'{field}_offset' in sample:
                    raise ValueError(f'shard {path}: sample {key!r} has two '
                                     f'{"images" if field == "img" else "captions"} '
                                     f'(second one: {member.name})')
                if field == 'img':
                    sample['img_member'] = member.name
                sample[f'{field}_offset'] = member.offset_data
                sample[f'{field}_size'] = member.size
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ValueError(f'cannot read webdataset shard {path}: {err}') from err
    out = []
    for key, sample in samples.items():
        if 'img_offset' not in sample:
            raise ValueError(f'shard {path}: sample {key!r} has a caption but no image '
                             f'(expected {key}.{{{",".join(IMAGE_EXTENSIONS)}}})')
        if 'txt_offset' not in sample:
            raise ValueError(f'shard {path}: image {sample["img_member"]} has no caption '
                             f'(expected {key}.{TEXT_EXTENSION})')
        out.append(sample)
    return out


def read_bytes(path: str, offset: int, size: int) -> bytes:
    """Read ``size`` bytes at ``offset`` of ``path`` (one open and seek per call).

    A fresh handle per read is safe under forked data loader workers (no shared file offset).
    """
    with open(path, 'rb') as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise ValueError(f'{path}: expected {size} bytes at offset {offset}, got {len(data)} '
                         '(the file changed or is truncated since it was indexed)')
    return data


@DATASETS.register_module()
class ImageTextShardDataset(BaseDataset):
    """Image-caption pairs stored as webdataset tar shards, with random access.

    The shards are the webdataset format (``<key>.jpg`` + ``<key>.txt`` per sample in plain
    tars), as produced by ``img2dataset`` for CC3M / CC12M / YFCC15M, by
    ``tools/dataset_converters/images_to_shards.py`` and by the ShapesWorld generator
    (``shards/{train,val}-%06d.tar``). See the module docstring for the key rules.

    Args:
        data_root (str): Folder that relative shard names are resolved against.
        shards (str | Sequence[str]): Which tars to read, one of

            - a list of tar names (relative to ``data_root`` or absolute);
            - a glob pattern such as ``'train-*.tar'`` (matches are sorted by name) or a
              webdataset brace range such as ``'train-{000000..000099}.tar'``;
            - a ``.json`` index ``{"shards": [{"name": ..., "num_samples": ...}], ...}``
              (ShapesWorld's and the converter's ``{split}.json``); names in it are relative to
              the json's folder and the sample counts are checked.

            Defaults to ``ann_file`` when not given.
        ann_file (str): Alternative way to give ``shards`` (a json index or a pattern), for
            configs that follow the MMEngine convention. Defaults to ''.
        index_cache (str, optional): A JSON file keeping the member index of every shard
            (relative to ``data_root`` unless absolute). Shards whose size and modification
            time did not change are not re-read; the file is rewritten when something changed.
            Defaults to None (index at every start).
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments (``pipeline``,
            ``indices``, ``serialize_data``, ``lazy_init``, ``max_refetch``, ``test_mode``,
            ``metainfo``).

    Each data info has ``img_path`` (``'<shard path>/<image member>'``, for logs and
    visualisation), ``shard`` (the tar's path), ``key``, ``img_offset`` / ``img_size`` (where
    ``LoadImageFromShard`` reads the encoded image) and ``text`` (the caption, read from the tar
    when the sample is fetched, stripped of surrounding white space).
    """

    def __init__(self,
                 data_root: str = '',
                 shards: Union[str, Sequence[str], None] = None,
                 ann_file: str = '',
                 index_cache: Optional[str] = None,
                 **kwargs) -> None:
        self.shards = shards if shards is not None else ann_file
        if not self.shards:
            raise ValueError('ImageTextShardDataset needs `shards` (a list of tar names, a glob '
                             'pattern or a {split}.json index) or `ann_file`')
        if not isinstance(self.shards, str):
            if not isinstance(self.shards, Sequence):
                raise TypeError('shards must be a str or a list of str, got '
                                f'{type(shards).__name__}')
            self.shards = list(self.shards)
        self.index_cache = index_cache
        self.shard_paths: List[str] = []
        kwargs.setdefault('data_prefix', dict(img_path=''))
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    # ------------------------------------------------------------------ index
    def _abs(self, path: str) -> str:
        if osp.isabs(path) or not self.data_root:
            return path
        return osp.join(self.data_root, path)

    def _resolve_shards(self):
        """Return ``(paths, expected_counts or None)``."""
        spec = self.shards
        if isinstance(spec, list):
            if not spec:
                raise ValueError('shards is an empty list')
            return [self._abs(name) for name in spec], None
        if spec.endswith('.json'):
            index_path = self._abs(spec)
            if not osp.isfile(index_path):
                raise FileNotFoundError(f'shard index {index_path} does not exist')
            try:
                with open(index_path, encoding='utf-8') as f:
                    index = json.load(f)
                entries = index['shards']
                names = [entry['name'] if isinstance(entry, dict) else entry
                         for entry in entries]
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(f'shard index {index_path} is not a '
                                 '{"shards": [{"name", "num_samples"}]} json: '
                                 f'{err!r}') from err
            counts = [entry.get('num_samples') if isinstance(entry, dict) else None
                      for entry in entries]
            folder = osp.dirname(index_path)
            paths = [name if osp.isabs(name) else osp.join(folder, name) for name in names]
            if not paths:
                raise ValueError(f'shard index {index_path} lists no shards')
            return paths, counts
        names = expand_braces(spec)
        paths = []
        for name in names:
            path = self._abs(name)
            if glob.has_magic(path):
                matches = sorted(glob.glob(path))
                if not matches:
                    raise FileNotFoundError(f'no shard matches {path}')
                paths.extend(matches)
            else:
                paths.append(path)
        return paths, None

    def _load_cache(self) -> dict:
        if not self.index_cache:
            return {}
        path = self._abs(self.index_cache)
        if not osp.isfile(path):
            return {}
        try:
            with open(path, encoding='utf-8') as f:
                cache = json.load(f)
        except ValueError:
            return {}  # a damaged cache is rebuilt
        if not isinstance(cache, dict) or cache.get('version') != INDEX_CACHE_VERSION:
            return {}
        return cache.get('shards', {})

    def _save_cache(self, entries: dict) -> None:
        path = self._abs(self.index_cache)
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        tmp = f'{path}.tmp{os.getpid()}'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(dict(version=INDEX_CACHE_VERSION, shards=entries), f,
                      separators=(',', ':'))
        os.replace(tmp, path)

    def load_data_list(self) -> List[dict]:
        paths, counts = self._resolve_shards()
        cache = self._load_cache()
        new_cache = {}
        changed = False
        data_list = []
        self.shard_paths = []
        fields = ('key', 'img_member', 'img_offset', 'img_size', 'txt_offset', 'txt_size')
        for shard_idx, path in enumerate(paths):
            if not osp.isfile(path):
                raise FileNotFoundError(f'webdataset shard {path} does not exist')
            stat = os.stat(path)
            cache_key = osp.abspath(path)
            entry = cache.get(cache_key)
            if (entry is not None and entry.get('size') == stat.st_size
                    and entry.get('mtime') == stat.st_mtime_ns):
                samples = [dict(zip(fields, row)) for row in entry['samples']]
            else:
                samples = index_tar(path)
                changed = True
            new_cache[cache_key] = dict(size=stat.st_size, mtime=stat.st_mtime_ns,
                                        samples=[[s[f] for f in fields] for s in samples])
            if counts is not None and counts[shard_idx] is not None \
                    and counts[shard_idx] != len(samples):
                raise ValueError(f'shard {path} holds {len(samples)} samples but the index '
                                 f'{self._abs(self.shards)} says {counts[shard_idx]}')
            self.shard_paths.append(path)
            for sample in samples:
                sample['shard_idx'] = shard_idx
                data_list.append(sample)
        if self.index_cache and (changed or set(new_cache) != set(cache)):
            self._save_cache({**cache, **new_cache})
        return data_list

    # ---------------------------------------------------------------- samples
    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        shard = self.shard_paths[info.pop('shard_idx')]
        info['shard'] = shard
        info['img_path'] = f'{shard}/{info["img_member"]}'
        raw = read_bytes(shard, info.pop('txt_offset'), info.pop('txt_size'))
        try:
            info['text'] = raw.decode('utf-8').strip()
        except UnicodeDecodeError as err:
            raise ValueError(f'shard {shard}: caption {info["key"]}.{TEXT_EXTENSION} is not '
                             f'UTF-8: {err}') from err
        return info


@DATASETS.register_module()
class ImageTextListDataset(BaseDataset):
    """Image-caption pairs listed in a CSV or JSON file, images as ordinary files.

    Accepted ``ann_file`` formats (chosen by extension):

    - ``.csv``: a header row with (at least) the columns ``image`` and ``caption``;
    - ``.json``: a list of ``{"image": ..., "caption": ...}`` objects (or a dict holding that
      list under ``"data_list"``);
    - ``.jsonl``: one such object per line.

    Image paths are relative to ``data_prefix['img_path']`` (itself relative to ``data_root``)
    unless absolute.

    Args:
        ann_file (str): The list file.
        image_key (str): Column / field of the image path. Defaults to ``'image'``.
        caption_key (str): Column / field of the caption. Defaults to ``'caption'``.
        check_files (bool): Check at start that every image exists and raise naming the first
            missing one. Defaults to True.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """

    def __init__(self,
                 ann_file: str,
                 image_key: str = 'image',
                 caption_key: str = 'caption',
                 check_files: bool = True,
                 **kwargs) -> None:
        self.image_key = image_key
        self.caption_key = caption_key
        self.check_files = check_files
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        records = read_image_text_list(self.ann_file, self.image_key, self.caption_key)
        prefix = self.data_prefix.get('img_path', '') or ''
        data_list = []
        for row, (image, caption) in enumerate(records):
            path = image if osp.isabs(image) else osp.join(prefix, image)
            if self.check_files and not osp.isfile(path):
                raise FileNotFoundError(f'{self.ann_file}: image {path} (entry {row}) does not '
                                        'exist')
            data_list.append(dict(img_path=path, text=caption.strip()))
        return data_list


def read_image_text_list(ann_file: str, image_key: str = 'image',
                         caption_key: str = 'caption') -> List[tuple]:
    """Read ``(image, caption)`` pairs from a CSV, JSON or JSON-lines list (see
    :class:`ImageTextListDataset`). Errors name the file and the offending entry."""
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'image-text list {ann_file} does not exist')
    ext = osp.splitext(ann_file)[1].lower()
    if ext == '.csv':
        with open(ann_file, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            missing = [k for k in (image_key, caption_key) if k not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f'{ann_file}: the CSV header {reader.fieldnames} lacks the '
                                 f'column(s) {missing}')
            entries = list(reader)
    elif ext in ('.json', '.jsonl'):
        with open(ann_file, encoding='utf-8') as f:
            try:
                if ext == '.json':
                    entries = json.load(f)
                else:
                    entries = [json.loads(line) for line in f if line.strip()]
            except ValueError as err:
                raise ValueError(f'{ann_file} is not valid JSON: {err}') from err
        if isinstance(entries, dict) and 'data_list' in entries:
            entries = entries['data_list']
        if not isinstance(entries, list):
            raise ValueError(f'{ann_file}: expected a list of {{"{image_key}": ..., '
                             f'"{caption_key}": ...}} objects')
    else:
        raise ValueError(f'{ann_file}: unknown list format {ext!r} (use .csv, .json or .jsonl)')
    pairs = []
    for row, entry in enumerate(entries):
        if not isinstance(entry, dict) or image_key not in entry or caption_key not in entry:
            raise ValueError(f'{ann_file}: entry {row} lacks "{image_key}" or "{caption_key}": '
                             f'{entry!r}'[:300])
        image, caption = entry[image_key], entry[caption_key]
        if not isinstance(image, str) or not image:
            raise ValueError(f'{ann_file}: entry {row} has no image path')
        if not isinstance(caption, str):
            raise ValueError(f'{ann_file}: entry {row} ({image}) has a non-text caption')
        pairs.append((image, caption))
    return pairs
