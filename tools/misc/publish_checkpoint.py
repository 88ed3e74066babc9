# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Strip a training checkpoint to what inference needs, for shipping in the repository.

    python tools/misc/publish_checkpoint.py IN.pth OUT.pth

Writes ``OUT.pth`` holding ``{'meta': {...}, 'state_dict': {...}}`` only (no optimizer, message
hub or scheduler state; the tensors as they are, so predictions do not change) and records
its SHA-256 in ``SHA256SUMS`` next to it (one ``<sha256>  <file name>`` line per file, the
format of ``sha256sum``; an older line for the same name is replaced). The input is read with
the project's safe loader (``weights_only=True``): nothing in it is executed.
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmgen_vision.utils.checkpoint import safe_torch_load, state_dict_of  # noqa: E402
from mmgen_vision.utils.convert import file_sha256, save_converted_checkpoint  # noqa: E402

#: ``meta`` entries copied from MMEngine's checkpoint (plain values only).
META_KEYS = ('epoch', 'iter', 'seed', 'mmengine_version', 'mmgen_vision_version')


def record_sha256(path: str) -> str:
    """Add (or replace) ``path``'s line in the ``SHA256SUMS`` of its folder; return the sum."""
    digest = file_sha256(path)
    sums = osp.join(osp.dirname(osp.abspath(path)), 'SHA256SUMS')
    name = osp.basename(path)
    lines = []
    if osp.isfile(sums):
        with open(sums, encoding='utf-8') as f:
            lines = [ln for ln in f.read().splitlines() if ln and ln.split()[-1] != name]
    lines.append(f'{digest}  {name}')
    with open(sums, 'w', encoding='utf-8') as f:
        f.write('\n'.join(sorted(lines, key=lambda ln: ln.split()[-1])) + '\n')
    return digest


def publish(src: str, dst: str) -> str:
    """Write the weights of ``src`` to ``dst`` and record its SHA-256; return it."""
    checkpoint = safe_torch_load(src, src, map_location='cpu')
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    meta = {k: meta[k] for k in META_KEYS if k in meta}
    meta['published_from'] = osp.basename(src)
    save_converted_checkpoint(state_dict_of(checkpoint), dst, meta=meta)
    return record_sha256(dst)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='training checkpoint (tools/train.py output)')
    parser.add_argument('dst', help='the published file')
    args = parser.parse_args(argv)
    digest = publish(args.src, args.dst)
    print(f'{digest}  {args.dst} ({osp.getsize(args.dst) / 1e6:.1f} MB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
