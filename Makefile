# mmgen_vision: the two quick-start commands and a few conveniences.
#   make demo  - set up the pinned stack in .venv (idempotent) and run the main job on ShapesWorld
#   make test  - set up the pinned stack in .venv (idempotent) and run the test suite
# Variables: JOB=<name> picks the main job (default painter; all = the five methods one after
# another; see tools/misc/main_job.py --list), SEED=<n> (training seed of the main job),
# FROM_SCRATCH=1 (train jobs that start from a shipped checkpoint: painter, groupvit), VENV=<dir>,
# PYTEST_WORKERS=<n> (test processes, pytest-xdist; default 2, the CI machine's cores; 0 = one
# process), PYTEST_ARGS=<extra pytest arguments>.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
JOB ?= painter
SEED ?=
FROM_SCRATCH ?=
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: setup demo test data clean-env

setup:
	MMGV_VENV=$(abspath $(VENV)) bash tools/setup_env.sh

demo: setup
	$(PYTHON) tools/misc/main_job.py --job $(JOB) $(if $(SEED),--seed $(SEED)) \
		$(if $(FROM_SCRATCH),--from-scratch)

test: setup
	$(PYTHON) -m pytest tests -ra --durations=15 -n $(PYTEST_WORKERS) --dist loadfile \
		--no-loadscope-reorder $(PYTEST_ARGS)

data: setup
	$(PYTHON) tools/misc/generate_shapesworld.py --out-dir data/shapesworld

clean-env:
	rm -rf $(VENV)
