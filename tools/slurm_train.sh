#!/usr/bin/env bash
# Slurm training: [GPUS=8] tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# Python: $MMGV_VENV/bin/python, else <repo>/.venv/bin/python, else $PYTHON, else python
# (see tools/python_env.sh); the path must be valid on the compute nodes (shared file system).
source "$(dirname "${BASH_SOURCE[0]}")/python_env.sh" || exit 1
PYTHON=$(mmgv_python "$MMGV_ROOT") || exit 1
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}

PYTHONPATH="$MMGV_ROOT":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$MMGV_ROOT/tools/train.py" "${CONFIG}" --work-dir="${WORK_DIR}" --launcher="slurm" "${@:5}"
