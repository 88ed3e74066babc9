#!/usr/bin/env bash
# One-command, idempotent set-up of the pinned mmgen_vision stack in a virtual environment
# that this script owns (default: <repo>/.venv).
#
#   bash tools/setup_env.sh            # cold: ~13 min on 2 cores (mmcv build); warm: seconds
#
# Every package version comes from requirements/lock.txt (pip constraints; transitive packages
# included) and the finished environment is checked against it (tools/misc/env_lock.py --check),
# so a fresh machine gets exactly the stack that CI tested. pip's full output goes to a log in
# $MMGV_CACHE/logs; its repeated "Location ... is ignored" warnings are kept out of the terminal.
#
# Environment knobs:
#   MMGV_VENV   where the virtual environment lives           (default: <repo>/.venv)
#   MMGV_CACHE  where built wheels and build logs are cached  (default: ~/.cache/mmgen_vision)
#   PYTHON      interpreter used to create the venv           (default: python3.11, else python3)
#   MAX_JOBS    parallel compile jobs for the mmcv ops build  (default: number of cores)
#   FORCE_CUDA  =1 to build the CUDA ops of mmcv on a machine whose torch sees no GPU
#   MMGV_UPDATE_LOCK =1 to install without the lock's constraints and rewrite the lock (after a
#               deliberate change of requirements/*.txt)
#
# Pitfalls handled here (all measured on the stack in requirements/):
#   * mmcv 2.1.0 exists only as a source package. Its build needs --no-build-isolation, wheel, and a
#     setuptools that still ships pkg_resources (<81) yet satisfies torch (>=77.0.3). Its setup.py
#     hard-codes -std=c++17, which torch 2.14 headers reject: we patch it to C++20. The built wheel is
#     cached in $MMGV_CACHE/wheels, keyed by torch version and CUDA flavour, so it is built once.
#   * xtcocotools' PyPI wheels are compiled against numpy 1 and crash with numpy 2: built from source
#     against the venv's numpy 2 (also cached), with its _mask.pyx patched (np.NPY_OWNDATA, removed
#     in numpy 2 -> np.NPY_ARRAY_OWNDATA).
#   * mmpose's chumpy dependency does not build: mmpose is installed with --no-deps and its other
#     requirements are listed in requirements/runtime.txt.
#   * openmim needs pkg_resources at run time (provided by the pinned setuptools).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMGV_VENV:-$ROOT/.venv}"
CACHE="${MMGV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmgen_vision}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

T0=$(date +%s)
step() { printf '[setup %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

# ---------------------------------------------------------------- warm path
stamp_inputs() {
  cat "$ROOT"/requirements/*.txt "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" "$ROOT/setup.cfg"
}
STAMP_HASH="$(stamp_inputs | sha256sum | cut -c1-16)"
STAMP="$VENV/.mmgv-setup-$STAMP_HASH"
SMOKE='import mmcv, mmcv.ops, mmdet, mmseg, mmpose, mmengine, torch, torchvision, diffusers, open_clip, xtcocotools, mmgen_vision'
if [[ -f "$STAMP" ]] && "$VENV/bin/python" -c "$SMOKE" 2>/dev/null \
    && [[ "$(readlink "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/mmgen_vision")" == "$ROOT/mmgen_vision" ]]; then
  step "environment $VENV is up to date (stamp $STAMP_HASH)"
  exit 0
fi

# ---------------------------------------------------------------- venv + build tools
if [[ ! -x "$VENV/bin/python" ]]; then
  step "creating virtual environment $VENV with $PYTHON ($("$PYTHON" --version))"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
mkdir -p "$CACHE/wheels" "$CACHE/logs" "$CACHE/src"
LOCK="$ROOT/requirements/lock.txt"
if [[ "${MMGV_UPDATE_LOCK:-0}" == "1" || ! -f "$LOCK" ]]; then
  LOCK_ARGS=()
  step "installing WITHOUT the lock's constraints (MMGV_UPDATE_LOCK=1 or no $LOCK); the lock is rewritten at the end"
else
  LOCK_ARGS=(-c "$LOCK")
fi
PIP_LOG="$CACHE/logs/setup-$(date +%Y%m%d-%H%M%S).log"
# pip install with the lock's constraints; everything goes to $PIP_LOG, the terminal is spared
# the index's repeated "Location ... is ignored" warnings (and, with a pattern, shows only the
# lines that match it). Fails when pip fails.
pip_install() {
  local show="$1"; shift
  "$PY" -m pip install --progress-bar off "${LOCK_ARGS[@]}" "$@" 2>&1 | tee -a "$PIP_LOG" \
    | { grep -v -E "^WARNING: Location '[^']*' is ignored" | grep -E "$show" || true; }
  local rc=${PIPESTATUS[0]}
  [[ $rc -eq 0 ]] || { echo "pip install $* failed (exit $rc); full output: $PIP_LOG" >&2; exit "$rc"; }
}
QUIET='^(ERROR|error)'

step "installing build tools (requirements/build.txt); pip's full output: $PIP_LOG"
pip_install "$QUIET" --upgrade pip
pip_install "$QUIET" -r "$ROOT/requirements/build.txt"

step "installing torch + torchvision (requirements/torch.txt; first time: large download)"
pip_install '^(Collecting|Successfully|ERROR)' -r "$ROOT/requirements/torch.txt"
"$PY" -c 'import torch, torchvision; print("  torch", torch.__version__, "torchvision", torchvision.__version__)'

TORCH_TAG="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
if [[ "${FORCE_CUDA:-0}" == "1" ]] || "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  FLAVOUR="cuda"; export FORCE_CUDA=1
else
  FLAVOUR="cpu"
fi
# "recipe" is bumped whenever a source patch below changes, so stale builds are not reused
WHEELS="$CACHE/wheels/recipe2-torch$TORCH_TAG-$FLAVOUR"
mkdir -p "$WHEELS"

# ---------------------------------------------------------------- mmcv 2.1.0 from source
build_mmcv() {
  local src_dir="$CACHE/src/mmcv-2.1.0" log="$CACHE/logs/mmcv-build-$(date +%Y%m%d-%H%M%S).log"
  if [[ ! -d "$src_dir" ]]; then
    step "downloading the mmcv 2.1.0 source package"
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$CACHE/src" mmcv==2.1.0 \
      2>&1 | { grep -v -E "^WARNING: Location '[^']*' is ignored" || true; }
    tar -xzf "$CACHE/src/mmcv-2.1.0.tar.gz" -C "$CACHE/src"
  fi
  step "patching mmcv setup.py: C++17 -> C++20 (torch 2.14 headers need C++20)"
  sed -i -e 's/-std=c++17/-std=c++20/g' -e 's#/std:c++17#/std:c++20#g' "$src_dir/setup.py"
  grep -q 'c++20' "$src_dir/setup.py" || { echo "mmcv setup.py has no C++ standard flag to patch" >&2; exit 1; }
  step "building mmcv 2.1.0 with ops ($FLAVOUR, MAX_JOBS=${MAX_JOBS:-$(nproc)}); ~23 min on 2 cores. Full log: $log"
  step "  progress lines are [compiled/total] source file:"
  (
    export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
    "$PY" -m pip wheel -v --no-deps --no-build-isolation -w "$WHEELS" "$src_dir" 2>&1 \
      | grep -v -E "^WARNING: Location '[^']*' is ignored"
  ) | tee "$log" | sed -u -nE 's#^ *\[([0-9]+/[0-9]+)\].* -c ([^ ]+).*#    [\1] \2#p'
  if [[ ${PIPESTATUS[0]} -ne 0 ]] || ! ls "$WHEELS"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    echo "mmcv build failed; see $log" >&2; exit 1
  fi
}
MMCV_WHEEL="$(ls "$WHEELS"/mmcv-2.1.0-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$MMCV_WHEEL" ]]; then
  build_mmcv
  MMCV_WHEEL="$(ls "$WHEELS"/mmcv-2.1.0-*.whl | head -n1)"
else
  step "using cached mmcv wheel $MMCV_WHEEL"
fi

# ---------------------------------------------------------------- xtcocotools against numpy 2
build_xtcocotools() {
  local version=1.14.3 src_dir log="$CACHE/logs/xtcocotools-build.log"
  src_dir="$CACHE/src/xtcocotools-$version"
  step "building xtcocotools $version from source against numpy $("$PY" -c 'import numpy; print(numpy.__version__)')"
  if [[ ! -d "$src_dir" ]]; then
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$CACHE/src" \
      "xtcocotools==$version" 2>&1 | { grep -v -E "^WARNING: Location '[^']*' is ignored" || true; }
    tar -xzf "$CACHE/src/xtcocotools-$version.tar.gz" -C "$CACHE/src"
  fi
  # numpy 2 dropped the NPY_OWNDATA alias that _mask.pyx uses (area/decode/iou/toBbox fail at
  # run time with AttributeError): use the NPY_ARRAY_OWNDATA flag, and regenerate the C source.
  sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/g' "$src_dir/xtcocotools/_mask.pyx"
  rm -f "$src_dir/xtcocotools/_mask.c"
  "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$WHEELS" "$src_dir" > "$log" 2>&1 \
    || { echo "xtcocotools build failed; see $log" >&2; exit 1; }
}
XTC_WHEEL="$(ls "$WHEELS"/xtcocotools-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$XTC_WHEEL" ]]; then
  build_xtcocotools
  XTC_WHEEL="$(ls "$WHEELS"/xtcocotools-*.whl | head -n1)"
else
  step "using cached xtcocotools wheel $XTC_WHEEL"
fi

# ---------------------------------------------------------------- the rest of the stack
step "installing mmcv + xtcocotools wheels and the runtime requirements"
# the locally built wheels replace any same-version build already in the venv
pip_install "$QUIET" --force-reinstall --no-deps "$MMCV_WHEEL" "$XTC_WHEEL"
pip_install "$QUIET" "$MMCV_WHEEL" "$XTC_WHEEL" -r "$ROOT/requirements/runtime.txt" \
  -r "$ROOT/requirements/tests.txt" -c "$ROOT/requirements/torch.txt"
step "installing mmengine, mmdet, mmsegmentation, mmpose (mmpose without chumpy)"
pip_install "$QUIET" --no-deps mmengine==0.10.7 mmdet==3.3.0 mmsegmentation==1.2.2 mmpose==1.3.2
# mmengine's own requirements (all light) besides the ones already in runtime.txt.
pip_install "$QUIET" addict pyyaml rich termcolor yapf

step "installing mmgen_vision (editable, with its .mim links for 'mim train/test')"
pip_install "$QUIET" --no-deps --no-build-isolation -e "$ROOT"
# mim finds a codebase at <dist location>/<package> through pkg_resources. A PEP 660 editable
# install puts only an import hook in site-packages, so mim would look for a folder that does not
# exist: link the source package there (imports then resolve to the same files).
PURELIB="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ln -sfn "$ROOT/mmgen_vision" "$PURELIB/mmgen_vision"

step "smoke test: $SMOKE"
"$PY" - <<'EOF'
import mmcv, mmcv.ops, mmdet, mmseg, mmpose, mmengine, torch, torchvision, numpy
import diffusers, open_clip, xtcocotools, mmgen_vision
from xtcocotools import mask  # crashes when compiled against numpy 1 or left unpatched
assert mask.area(mask.encode(numpy.ones((4, 4), dtype=numpy.uint8, order='F'))) == 16
print(f'  torch {torch.__version__} | torchvision {torchvision.__version__} | numpy {numpy.__version__}')
print(f'  mmengine {mmengine.__version__} | mmcv {mmcv.__version__} | mmdet {mmdet.__version__} | '
      f'mmseg {mmseg.__version__} | mmpose {mmpose.__version__} | mmgen_vision {mmgen_vision.__version__}')
EOF
if [[ ${#LOCK_ARGS[@]} -eq 0 ]]; then
  step "writing the lock $LOCK"
  "$PY" "$ROOT/tools/misc/env_lock.py" --write
  STAMP="$VENV/.mmgv-setup-$(stamp_inputs | sha256sum | cut -c1-16)"  # the lock is an input
else
  step "checking the environment against the lock $LOCK"
  "$PY" "$ROOT/tools/misc/env_lock.py" --check
fi
rm -f "$VENV"/.mmgv-setup-*
touch "$STAMP"
step "done: activate with 'source $VENV/bin/activate'"
