#!/usr/bin/env bash
# The Python interpreter of the launch scripts (dist_train.sh, dist_test.sh, slurm_train.sh,
# slurm_test.sh source this file), so that they run in the project's environment without
# `source .venv/bin/activate`. First match wins:
#
#   1. $MMGV_VENV/bin/python, when MMGV_VENV is set (the environment knob of tools/setup_env.sh;
#      an MMGV_VENV without bin/python is an error, not silently skipped);
#   2. <repo>/.venv/bin/python, the environment that `make setup` / `make demo` create;
#   3. $PYTHON, when set;
#   4. `python` from PATH, else `python3`.
#
# $PYTHON comes after the project environments because tools/setup_env.sh reads the same
# variable as the interpreter that *creates* the environment (e.g. PYTHON=python3.11): left
# exported, it must not send the launch scripts back to a Python without torch. To run another
# environment, point MMGV_VENV at it.
#
# Sourced: defines mmgv_python. Run (`bash tools/python_env.sh`): prints the interpreter.

# mmgv_python REPO_ROOT: print the interpreter to use; return 1 (with a message) if none.
mmgv_python() {
  local root="$1"
  if [[ -n "${MMGV_VENV:-}" ]]; then
    if [[ -x "$MMGV_VENV/bin/python" ]]; then
      echo "$MMGV_VENV/bin/python"
    else
      echo "MMGV_VENV=$MMGV_VENV has no bin/python: create it with 'make setup'" \
        "(tools/setup_env.sh) or unset MMGV_VENV" >&2
      return 1
    fi
  elif [[ -x "$root/.venv/bin/python" ]]; then
    echo "$root/.venv/bin/python"
  elif [[ -n "${PYTHON:-}" ]]; then
    echo "$PYTHON"
  elif command -v python >/dev/null 2>&1; then
    echo python
  elif command -v python3 >/dev/null 2>&1; then
    echo python3
  else
    echo "no Python interpreter: run 'make setup' (creates $root/.venv), set MMGV_VENV or" \
      "PYTHON, or put python on PATH" >&2
    return 1
  fi
}

# the repository root: the folder above the one holding this file
MMGV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  mmgv_python "$MMGV_ROOT"
fi
