# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Write or check ``requirements/lock.txt``: the exact version of every installed package.

``tools/setup_env.sh`` installs every step with ``-c requirements/lock.txt`` (pip constraints),
so a fresh machine resolves the same versions as the machine that wrote the lock, transitive
dependencies included; at the end it runs ``--check``, which fails when the environment holds a
package that the lock does not list, lacks one that it lists, or has another version.

    python tools/misc/env_lock.py --check            # compare the running environment
    python tools/misc/env_lock.py --write            # rewrite the lock from it

Update the lock after changing ``requirements/*.txt``:
``MMGV_UPDATE_LOCK=1 make setup`` (installs without the old constraints, then ``--write``).

The package itself (an editable install of this repository) is not locked.
"""
import argparse
import importlib.metadata as metadata
import os.path as osp
import re
import sys
import sysconfig

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOCK_FILE = osp.join(REPO_ROOT, 'requirements', 'lock.txt')
UNLOCKED = {'mmgen-vision'}
HEADER = """\
# Exact versions of every package in the mmgen_vision environment (transitive ones included).
# Written by `python tools/misc/env_lock.py --write` on the environment that tools/setup_env.sh
# built; setup_env.sh installs with `-c requirements/lock.txt` and checks the result against it.
# mmcv and xtcocotools are built from their source packages by setup_env.sh (same versions).
"""


def normalize(name: str) -> str:
    """PEP 503 normalised project name (``Foo_bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r'[-_.]+', '-', name).lower()


def installed() -> dict:
    """``{normalised name: version}`` of every distribution installed in the running
    environment's site-packages (not all of ``sys.path``: importing setuptools puts its vendored
    packages' ``.dist-info`` on it, which pip never installed)."""
    paths = sorted({sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']})
    found = {}
    for dist in metadata.distributions(path=paths):
        name = dist.metadata['Name']
        if name is None:  # a broken leftover .dist-info
            continue
        name = normalize(name)
        if name not in UNLOCKED:
            found.setdefault(name, dist.version)
    return found


def read_lock(path: str = LOCK_FILE) -> dict:
    """``{normalised name: version}`` of a lock file of ``name==version`` lines."""
    locked = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            match = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)', line)
            if match is None:
                raise ValueError(f'{path}:{lineno}: expected "name==version", got {line!r}')
            locked[normalize(match.group(1))] = match.group(2)
    return locked


def compare(locked: dict, present: dict) -> list:
    """Human-readable differences between the lock and the environment (empty if equal)."""
    problems = []
    for name in sorted(set(locked) | set(present)):
        want, have = locked.get(name), present.get(name)
        if want == have:
            continue
        if have is None:
            problems.append(f'{name}=={want} is locked but not installed')
        elif want is None:
            problems.append(f'{name}=={have} is installed but not in the lock')
        else:
            problems.append(f'{name} is {have}, the lock says {want}')
    return problems


def write_lock(present: dict, path: str = LOCK_FILE) -> None:
    with open(path, 'w') as f:
        f.write(HEADER)
        for name in sorted(present):
            f.write(f'{name}=={present[name]}\n')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--check', action='store_true', help='compare the environment with the lock')
    group.add_argument('--write', action='store_true', help='rewrite the lock from the environment')
    parser.add_argument('--lock', default=LOCK_FILE, help='lock file (default: %(default)s)')
    args = parser.parse_args(argv)
    present = installed()
    if args.write:
        write_lock(present, args.lock)
        print(f'wrote {len(present)} packages to {args.lock}')
        return 0
    problems = compare(read_lock(args.lock), present)
    if problems:
        print(f'the environment of {sys.executable} differs from {args.lock}:', file=sys.stderr)
        for problem in problems:
            print(f'  {problem}', file=sys.stderr)
        print('after a deliberate change of requirements/*.txt, update the lock with '
              '`MMGV_UPDATE_LOCK=1 make setup`', file=sys.stderr)
        return 1
    print(f'environment matches {args.lock} ({len(present)} packages)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
