# Copyright (c) mmgen_vision contributors. All rights reserved.
import atexit
import contextlib
import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys
import threading
import time

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_SEG_CONFIG = osp.join(REPO_ROOT,
                          'configs/shapesworld/fcn_r18-d8_1xb8-600it_shapesworld-ade-96x96.py')


def pytest_configure(config) -> None:
    """Tests build our configs' components directly (``DATASETS.build``, ``MODELS.build``, ...)
    as the tools do after ``register_all_modules()``: make the same explicit compatibility
    changes (safe checkpoint and pickle loading, the panopticapi fallback). Importing the package
    makes none of them (tests/test_utils/test_compat.py checks that in a fresh interpreter)."""
    from mmgen_vision.utils import setup_compat
    setup_compat()


#: The longest test files (CPU seconds in CI, one process), started first by ``make test``.
LONGEST_FILES = (
    'test_tools/test_painter_e2e.py',  # ~900 s
    'test_tools/test_xdecoder_e2e.py',  # ~790 s
    'test_tools/test_groupvit_e2e.py',  # ~320 s
    'test_own_data/test_own_data_e2e.py',  # ~400 s
)

if os.environ.get('PYTEST_XDIST_WORKER'):
    # Several test processes share the cores (``make test``: one per core). OpenMP threads that
    # spin while they wait for a busy core make a two-thread training ~2x slower; sleeping
    # instead costs ~4 % alone and changes no result.
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    # One thread per test process and per tool it runs, unless the caller or a test sets its
    # own: two processes of two threads on two cores oversubscribe them (the toy Painter
    # training: 0.75 s / iteration at two threads beside another test, 0.62 at one thread
    # alone). Set before torch is imported, so the worker's own torch uses it too. The method
    # READMEs record each learning check over seeds and thread counts (issue 14).
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    # Inductor compiles its kernels in a pool of one process per core by default; beside the
    # other test process a single compile thread is faster (a GLID compiled step: 45 s vs 55 s).
    os.environ.setdefault('TORCHINDUCTOR_COMPILE_THREADS', '1')

#: The environment of the test process before any test changed it: the tool server's.
ENV_AT_START = dict(os.environ)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    """The longest files first, then the other files with a ``slow`` test, then the rest, the
    order kept otherwise: ``make test`` spreads the files over processes (pytest-xdist,
    ``--dist loadfile --no-loadscope-reorder``), so the long trainings start at once and the
    short files fill in around them."""
    slow_files = {item.path for item in items if item.get_closest_marker('slow')}

    def rank(item):
        name = osp.relpath(item.path, osp.join(REPO_ROOT, 'tests'))
        if name in LONGEST_FILES:
            return LONGEST_FILES.index(name)
        return len(LONGEST_FILES) + (item.path not in slow_files)

    items.sort(key=rank)  # stable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a test's process group)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def once_per_run(tmp_path_factory, name: str, build):
    """``build(directory)`` run once per test run, its (JSON-able) result shared by every
    pytest-xdist worker: the first worker to ask builds it under a file lock in the run's
    common temporary directory, the others wait and read the result. Without xdist it is
    simply a session fixture's body."""
    from filelock import FileLock
    root = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        root = root.parent  # shared by the workers of this run
    directory = root / name
    done = root / f'{name}.json'
    with FileLock(str(root / f'{name}.lock')):
        if not done.is_file():
            directory.mkdir(exist_ok=True)
            done.write_text(json.dumps(build(str(directory))))
    return json.loads(done.read_text())


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO_ROOT


@pytest.fixture(scope='session')
def glid_roots(tmp_path_factory) -> dict:
    """The ShapesWorld of GLID's toy fine-tunings (256 train / 32 val images of 64 px; ImageNet,
    ADE, COCO and NYU layouts), generated once per test run."""
    from mmgen_vision.datasets import generate_shapesworld
    return once_per_run(tmp_path_factory, 'glid_sw', lambda root: generate_shapesworld(
        root, num_train=256, num_val=32, image_size=64, seed=0,
        formats=('imagenet', 'ade', 'coco', 'nyu')))


@pytest.fixture(scope='session')
def glid_pretrained(glid_roots, tmp_path_factory) -> str:
    """One toy GLID pre-training (``glid_toy_shapesworld-pretrain.py`` through
    ``tools/train.py``, one thread) shared by every GLID fine-tuning test of the run."""

    def pretrain(work_dir):
        config = osp.join(REPO_ROOT, 'configs', 'glid', 'glid_toy_shapesworld-pretrain.py')
        run_tool(['tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
                  f'train_dataloader.dataset.data_root={glid_roots["imagenet"]}',
                  'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False'],
                 env={'OMP_NUM_THREADS': '1'})
        return last_checkpoint(work_dir)

    return once_per_run(tmp_path_factory, 'glid_pretrain', pretrain)


@pytest.fixture(scope='session')
def shapesworld_root(tmp_path_factory) -> str:
    """The default-size ShapesWorld (all formats), generated once per test session."""
    from mmgen_vision.datasets import generate_shapesworld
    root = str(tmp_path_factory.mktemp('shapesworld'))
    generate_shapesworld(root, num_train=64, num_val=16, image_size=96, seed=0)
    return root


def load_script(path: str, name: str):
    """Import a repository script (``tools/...py``, ``demo/...py``) as a module named ``name``,
    to test its functions in-process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------- parity with the releases
#: Outputs of the official implementations on tiny configs (``shared/parity/*.pt``).
PARITY_DIR = osp.join(REPO_ROOT, '..', 'shared', 'parity')


def load_parity_fixture(file_name: str) -> dict:
    """The parity fixture ``shared/parity/<file_name>`` (tensors only); skips when absent."""
    import torch
    path = osp.join(PARITY_DIR, file_name)
    if not osp.exists(path):
        pytest.skip(f'parity fixture {osp.normpath(path)} is absent')
    return torch.load(path, weights_only=True)


def load_converter(name: str):
    """``tools/model_converters/<name>.py`` imported as a module."""
    return load_script(osp.join(REPO_ROOT, 'tools', 'model_converters', f'{name}.py'), name)


def build_converted_model(cfg: dict, state_dict: dict, convert):
    """Build ``cfg``, load ``convert(state_dict)`` strictly (every key checked first), eval mode."""
    from mmgen_vision.registry import MODELS
    from mmgen_vision.utils.convert import check_converted_keys
    model = MODELS.build(cfg)
    converted = convert(state_dict)
    check_converted_keys(converted, model)
    model.load_state_dict(converted, strict=True)
    return model.eval()


def parity_atol(fixture: dict, name: str) -> float:
    """The fixture's recommended absolute tolerance of output ``name`` (first matching glob)."""
    import fnmatch
    for pattern, value in fixture['recommended_atol'].items():
        if fnmatch.fnmatchcase(name, pattern):
            assert isinstance(value, float), f'{name}: {value}'
            return value
    raise KeyError(name)


def assert_parity_close(fixture: dict, name: str, actual, expected) -> None:
    """Same shape and max abs difference (computed in float64) within the fixture's tolerance."""
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    err = (actual.double() - expected.double()).abs().max().item()
    tol = parity_atol(fixture, name)
    assert err <= tol, f'{name}: max abs error {err:.3e} > {tol:.1e}'


class ToolServer:
    """The client of ``tests/tool_server.py``: a process of this test process that has imported
    the stack once and forks each tool run from it (~9 s of imports saved per run).

    Used by :func:`run_tool` for a python tool whose environment differs from the server's
    only in :attr:`RUNTIME_ENV` (read after start-up); ``MMGV_TEST_FRESH_TOOLS=1`` runs every
    tool in a fresh interpreter instead.
    """

    #: Variables the child may change: read at run time, or applied by the server's child
    #: (``OMP_NUM_THREADS`` through ``torch.set_num_threads``); Inductor sets the last two in
    #: a process that compiles, before it reads them.
    RUNTIME_ENV = frozenset({'OMP_NUM_THREADS', 'CUDA_VISIBLE_DEVICES', 'PYTHONUNBUFFERED',
                             'PYTEST_CURRENT_TEST', 'TORCHINDUCTOR_CACHE_DIR',
                             '_TORCHINDUCTOR_PYOBJECT_TENSOR_DATA_PTR'})
    _pool = []
    _pool_lock = threading.Lock()

    def __init__(self) -> None:
        import tempfile
        self.log_dir = tempfile.mkdtemp(prefix='mmgv_tool_server_')
        start_env = dict(ENV_AT_START, PYTHONUNBUFFERED='1')
        self.proc = subprocess.Popen(
            [sys.executable, osp.join(REPO_ROOT, 'tests', 'tool_server.py'),
             osp.join(self.log_dir, 'preload.log')],
            cwd=REPO_ROOT, env=start_env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE)
        self._buffer = b''
        self.busy = False
        # ready: its environment after the imports, which set a few variables (cv2 its Qt
        # paths, mmseg TOKENIZERS_PARALLELISM), as they do in a fresh interpreter
        ready = self._reply(timeout=300)
        self.env, self.single_threaded = ready['env'], ready['threads'] == 1
        self.set_by_imports = {k: v for k, v in self.env.items() if start_env.get(k) != v}
        atexit.register(self.close)

    def close(self) -> None:
        """End the server (it exits at the end of its input) and remove its files."""
        import shutil
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        shutil.rmtree(self.log_dir, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def acquire(cls):
        """An idle server of this process, started if none is (a test may run tools from
        several threads at once: one server each)."""
        with cls._pool_lock:
            cls._pool = [s for s in cls._pool if s.proc.poll() is None]
            server = next((s for s in cls._pool if not s.busy), None)
            if server is None:
                server = cls()
                cls._pool.append(server)
            server.busy = True
        try:
            yield server
        finally:
            server.busy = False

    def child_env(self, env: dict) -> dict:
        """``env`` and, where it lacks them, the variables the imports set."""
        return {**self.set_by_imports, **env}

    def env_differences(self, env: dict) -> list:
        """The variables of a run's environment ``env`` that differ from the server's
        (:attr:`RUNTIME_ENV` aside; those that only the imports set are filled in)."""
        env = self.child_env(env)
        keys = (set(env) | set(self.env)) - self.RUNTIME_ENV
        return sorted(k for k in keys if env.get(k) != self.env.get(k))

    def can_run(self, env: dict) -> bool:
        """Whether a run with environment ``env`` behaves as in a fresh interpreter."""
        return self.single_threaded and not self.env_differences(env)

    def _reply(self, timeout=None) -> dict:
        import select
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b'\n' not in self._buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise RuntimeError('the tool server died (see tests/tool_server.py)')
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b'\n', 1)
        return json.loads(line)

    def run(self, cmd: list, cwd: str, env: dict, timeout: float):
        out, err = (osp.join(self.log_dir, name) for name in ('stdout', 'stderr'))
        request = dict(argv=cmd, cwd=str(cwd), env=self.child_env(env), stdout=out, stderr=err)
        try:
            self.proc.stdin.write((json.dumps(request) + '\n').encode())
            self.proc.stdin.flush()
            pid = self._reply()['pid']
            try:
                status = self._reply(timeout)['status']
                timed_out = False
            except TimeoutError:
                import signal
                os.killpg(pid, signal.SIGKILL)
                status = self._reply()['status']
                timed_out = True
        except BaseException:  # noqa: B902 - a reply may be left unread: retire the server
            self.proc.kill()
            raise
        with open(out, errors='replace') as f_out, open(err, errors='replace') as f_err:
            stdout, stderr = f_out.read(), f_err.read()
        full_cmd = [sys.executable] + cmd
        if timed_out:
            raise subprocess.TimeoutExpired(full_cmd, timeout, stdout, stderr)
        return subprocess.CompletedProcess(full_cmd, status, stdout, stderr)


def run_tool(args, cwd=REPO_ROOT, env=None, timeout=900, check=True) -> subprocess.CompletedProcess:
    """Run a repo tool (a python script path or a shell script) as a user would.

    A python script runs as ``python script args`` would, forked from :class:`ToolServer` where
    its environment allows (the same code, arguments, working directory, environment, thread
    count, streams and exit status; set ``MMGV_TEST_FRESH_TOOLS=1`` for a fresh interpreter
    per run, ``MMGV_TEST_TOOL_LOG=<file>`` to have each run listed there). Returns the
    completed process (stdout and stderr captured as text). With ``check``, a non-zero exit
    fails the test and shows the tail of both streams.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault('PYTHONUNBUFFERED', '1')
    cmd = [str(arg) for arg in args]
    python_tool = cmd[0].endswith('.py')
    proc = None
    with contextlib.ExitStack() as stack:
        server = None
        if python_tool and not os.environ.get('MMGV_TEST_FRESH_TOOLS'):
            server = stack.enter_context(ToolServer.acquire())
        forked = server is not None and server.can_run(full_env)
        if os.environ.get('MMGV_TEST_TOOL_LOG'):  # how each tool ran, and why not forked
            why = 'forked' if forked else f'fresh {server and server.env_differences(full_env)}'
            with open(os.environ['MMGV_TEST_TOOL_LOG'], 'a') as f:
                f.write(f'{why}\t{" ".join(cmd)[:200]}\n')
        if forked:
            proc = server.run(cmd, cwd, full_env, timeout)
    if proc is None:
        if python_tool:
            cmd = [sys.executable] + cmd
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                              timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(proc.args)} exited {proc.returncode}\n--- stdout\n'
                    f'{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}')
    return proc


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint ``tools/train.py`` saved last in ``work_dir`` (its ``last_checkpoint``)."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    assert osp.isfile(checkpoint), checkpoint
    return checkpoint


def latest_metrics(work_dir: str) -> dict:
    """Metrics of the newest ``tools/test.py`` run in ``work_dir`` (``<ts>/<ts>.json``)."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    assert files, f'no metrics json in {work_dir}'
    with open(files[-1]) as f:
        return json.load(f)


def toy_seg_options(shapesworld_root: str, **extra) -> list:
    """``--cfg-options`` pointing the toy segmentation config at a generated ShapesWorld."""
    data_root = osp.join(shapesworld_root, 'ade', 'ADEChallengeData2016')
    options = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
    }
    options.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()]


@pytest.fixture(scope='session')
def trained(shapesworld_root, tmp_path_factory):
    """One training run of the toy segmentation config as shipped (600 iterations, ~1 min on
    2 cores), shared by every test that needs a trained checkpoint."""

    def train(work_dir):
        run_tool(['tools/train.py', TOY_SEG_CONFIG, '--work-dir', work_dir] +
                 toy_seg_options(shapesworld_root))
        return dict(work_dir=work_dir, checkpoint=last_checkpoint(work_dir))

    return once_per_run(tmp_path_factory, 'toy_seg', train)
