# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Image-caption list -> webdataset tar shards + ``{split}.json`` index.

    python tools/dataset_converters/images_to_shards.py LIST OUT_DIR \\
        [--img-root DIR] [--split train] [--samples-per-shard 10000] [--start-key 0]

``LIST`` is a CSV file with an ``image,caption`` header, or a JSON list (``.jsonl``: one object
per line) of ``{"image": ..., "caption": ...}``; image paths are relative to ``--img-root``
(default: the list's folder) unless absolute. The output is what
``mmgen_vision.datasets.ImageTextShardDataset`` (and ``webdataset``) reads::

    OUT_DIR/{split}-000000.tar, {split}-000001.tar, ...   <key>.<image ext> + <key>.txt pairs
    OUT_DIR/{split}.json   {"shards": [{"name", "num_samples"}], "num_samples", "samples_per_shard"}

Samples keep the list's order; keys are the zero-padded running index (``%09d`` from
``--start-key``). The image bytes are copied unchanged (no re-encoding; the extension is
kept, ``.jpeg`` normalised to ``.jpg``); captions are written as UTF-8 ``.txt``. The tars are
deterministic: ustar format, members sorted as written, owner 0, mode 0644 and a fixed mtime, so
the same list gives byte-identical shards. Each shard is written to a temporary name and renamed
when complete.
"""
import argparse
import io
import json
import os
import os.path as osp
import sys
import tarfile
from typing import List, Optional

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from mmgen_vision.datasets.image_text import IMAGE_EXTENSIONS, read_image_text_list  # noqa: E402
from mmgen_vision.utils.image_io import (ImageReadError, check_image_bytes,  # noqa: E402
                                         read_image_bytes)

MTIME = 0


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = MTIME
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    tar.addfile(info, io.BytesIO(data))


def images_to_shards(list_file: str,
                     out_dir: str,
                     img_root: Optional[str] = None,
                     split: str = 'train',
                     samples_per_shard: int = 10000,
                     start_key: int = 0,
                     key_digits: int = 9) -> dict:
    """Write the shards of ``list_file`` into ``out_dir``; return the index dict.

    Raises:
        FileNotFoundError: An image of the list does not exist (names the list entry).
        ImageReadError: An image of the list is empty, not an image or truncated (names the
            list entry and the cause).
        ValueError: Bad arguments, an unsupported image extension or a malformed list.
    """
    if samples_per_shard < 1:
        raise ValueError(f'samples_per_shard must be >= 1, got {samples_per_shard}')
    if not split or '/' in split:
        raise ValueError(f'bad split name {split!r}')
    pairs = read_image_text_list(list_file)
    if not pairs:
        raise ValueError(f'{list_file} lists no image-caption pairs')
    img_root = img_root if img_root is not None else osp.dirname(osp.abspath(list_file))
    # check everything before writing anything
    sources = []
    for row, (image, caption) in enumerate(pairs):
        path = image if osp.isabs(image) else osp.join(img_root, image)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{list_file}: image {path} (entry {row}) does not exist')
        ext = osp.splitext(path)[1].lower().lstrip('.')
        if ext not in IMAGE_EXTENSIONS:
            raise ValueError(f'{list_file}: image {path} (entry {row}) has the extension '
                             f'{ext!r}; supported: {IMAGE_EXTENSIONS}')
        try:  # the bytes are copied unchanged: check them (empty, not an image, truncated)
            check_image_bytes(read_image_bytes(path), path)
        except ImageReadError as err:
            raise ImageReadError(f'{path} (entry {row} of {list_file})', err.reason,
                                 err.detail) from err
        sources.append((path, 'jpg' if ext == 'jpeg' else ext, caption.strip()))
    os.makedirs(out_dir, exist_ok=True)
    shards: List[dict] = []
    for shard_idx, first in enumerate(range(0, len(sources), samples_per_shard)):
        name = f'{split}-{shard_idx:06d}.tar'
        final = osp.join(out_dir, name)
        tmp = f'{final}.tmp{os.getpid()}'
        chunk = sources[first:first + samples_per_shard]
        try:
            with tarfile.open(tmp, mode='w', format=tarfile.USTAR_FORMAT) as tar:
                for offset, (path, ext, caption) in enumerate(chunk):
                    key = str(start_key + first + offset).zfill(key_digits)
                    with open(path, 'rb') as f:
                        _add_member(tar, f'{key}.{ext}', f.read())
                    _add_member(tar, f'{key}.txt', caption.encode('utf-8'))
            os.replace(tmp, final)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
        shards.append(dict(name=name, num_samples=len(chunk)))
    index = dict(shards=shards, num_samples=len(sources), samples_per_shard=samples_per_shard)
    with open(osp.join(out_dir, f'{split}.json'), 'w', encoding='utf-8') as f:
        json.dump(index, f, separators=(',', ':'))
    return index


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an image-caption list (CSV or JSON) to webdataset tar shards')
    parser.add_argument('list_file', help='CSV with an image,caption header, or JSON/JSONL list')
    parser.add_argument('out_dir', help='output folder of the shards and {split}.json')
    parser.add_argument('--img-root', default=None,
                        help='folder of relative image paths (default: the list\'s folder)')
    parser.add_argument('--split', default='train', help='shard name prefix (default: train)')
    parser.add_argument('--samples-per-shard', type=int, default=10000)
    parser.add_argument('--start-key', type=int, default=0,
                        help='key of the first sample (default 0)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        index = images_to_shards(args.list_file, args.out_dir, img_root=args.img_root,
                                 split=args.split, samples_per_shard=args.samples_per_shard,
                                 start_key=args.start_key)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {index["num_samples"]} samples in {len(index["shards"])} shards to '
          f'{osp.abspath(args.out_dir)} ({args.split}.json)')


if __name__ == '__main__':
    main()
