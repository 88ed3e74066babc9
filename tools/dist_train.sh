#!/usr/bin/env bash
# Distributed training with torchrun: tools/dist_train.sh CONFIG GPUS [train.py args...]
# On a machine without CUDA the GPUS processes run on CPU with the gloo backend.
# Python: $MMGV_VENV/bin/python, else <repo>/.venv/bin/python, else $PYTHON, else python
# (see tools/python_env.sh): no need to activate the environment first.
source "$(dirname "${BASH_SOURCE[0]}")/python_env.sh" || exit 1
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=$(mmgv_python "$MMGV_ROOT") || exit 1

PYTHONPATH="$MMGV_ROOT":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$MMGV_ROOT/tools/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
