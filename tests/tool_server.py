# Copyright (c) mmgen_vision contributors. All rights reserved.
"""A fork server for the tests' tool runs (``conftest.run_tool``).

Every ``python tools/train.py ...`` of the suite spends ~9 s importing torch, MMEngine and the
OpenMMLab stack before it reads its config; the suite runs python tools 80 times. This
process imports that stack once, runs no torch operation (so no OpenMP pool, no thread at all
exists when it forks), and for each request forks a child that becomes the tool: its own
session, working directory, environment, ``sys.argv``, standard streams and thread count, the
script run as ``__main__`` by :func:`runpy.run_path`, its exit status that of ``python script``
(``SystemExit`` codes, a traceback and status 1 for an uncaught exception), the ``atexit``
functions run at its end. What the imports here printed (warnings) is written to each child's
stderr first, as a fresh interpreter would print it.

The child inherits the already imported modules and nothing else: the preload imports modules
only (no ``register_all_modules``, no compatibility patch), and the Python and NumPy random
states are reseeded from the OS as a fresh interpreter's are.

Protocol (one JSON object per line on stdin / stdout): once the imports are done the server
sends its environment and thread count ``{"env": {...}, "threads": n}`` (with what the imports
set); then a request ``{"argv": [script, ...], "cwd": ..., "env": {...}, "stdout": path,
"stderr": path}`` is answered by ``{"pid": n}`` at the fork and ``{"status": code}`` when the
child has ended (negative: killed by that signal).
"""
import atexit
import importlib
import json
import os
import os.path as osp
import random
import runpy
import sys
import traceback

#: Imported once here; the stock codebases' model / evaluation modules are what our registries
#: import lazily when a config names a ``mmdet.`` / ``mmseg.`` / ``mmpose.`` type.
PRELOAD = (
    'torch', 'torchvision', 'numpy', 'cv2', 'mmengine.runner', 'mmcv.transforms',
    'mmgen_vision.utils', 'mmgen_vision.engine', 'mmgen_vision.datasets',
    'mmgen_vision.datasets.transforms', 'mmgen_vision.models', 'mmgen_vision.evaluation',
    'mmgen_vision.visualization', 'mmgen_vision.apis',
    'mmdet.models', 'mmdet.evaluation', 'mmseg.models', 'mmseg.evaluation', 'mmpose.models',
    'mmpose.evaluation')


def _exit_status(code) -> int:
    """The status ``python script`` exits with for ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _become_tool(request: dict, preload_output: bytes) -> None:
    """In the forked child: set the process up as ``python argv[0] argv[1:]`` and run it."""
    status = 1
    try:
        os.setsid()  # one process group per tool run: a timeout kills its workers too
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, key in ((1, 'stdout'), (2, 'stderr')):
            out = os.open(request[key], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        os.close(null)
        os.write(2, preload_output)
        os.chdir(request['cwd'])
        os.environ.clear()
        os.environ.update(request['env'])
        import numpy as np
        import torch
        random.seed()
        np.random.seed()
        threads = os.environ.get('OMP_NUM_THREADS')
        if threads and threads.isdigit() and int(threads) > 0:
            torch.set_num_threads(int(threads))  # the OpenMP runtime read the server's value
        script = request['argv'][0]
        sys.argv = list(request['argv'])
        sys.path[0] = osp.dirname(osp.abspath(script))
        try:
            runpy.run_path(script, run_name='__main__')
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc.code)
        except KeyboardInterrupt:
            traceback.print_exc()
            status = 130
        except BaseException:  # noqa: B902 - exactly what the interpreter reports at exit
            sys.excepthook(*sys.exc_info())
            status = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: B902 - a closed stream must not keep the child alive
                pass
        os._exit(status)


def main() -> None:
    # The protocol keeps its own descriptors; 0 / 1 / 2 are what the children redirect.
    requests = os.fdopen(os.dup(0), 'r')
    replies = os.fdopen(os.dup(1), 'w')
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log_fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    for name in PRELOAD:
        importlib.import_module(name)
    sys.stdout.flush()
    sys.stderr.flush()
    os.lseek(log_fd, 0, os.SEEK_SET)
    preload_output = b''
    while chunk := os.read(log_fd, 1 << 16):
        preload_output += chunk
    # the imports may have set variables (cv2 its Qt paths): what a request must match
    # forking is only safe with no other thread (the client falls back to fresh interpreters)
    threads = len(os.listdir('/proc/self/task')) if osp.isdir('/proc/self/task') else None
    replies.write(json.dumps({'env': dict(os.environ), 'threads': threads}) + '\n')
    replies.flush()

    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            _become_tool(request, preload_output)
        replies.write(json.dumps({'pid': pid}) + '\n')
        replies.flush()
        _, wait_status = os.waitpid(pid, 0)
        replies.write(json.dumps({'status': os.waitstatus_to_exitcode(wait_status)}) + '\n')
        replies.flush()


if __name__ == '__main__':
    main()
