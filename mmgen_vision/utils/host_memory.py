# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Keep freed host memory in the process: faster CPU steps where tensors exceed 32 MiB, the
same numbers.

glibc serves an allocation above its mmap threshold (128 KiB, adapted up to at most 32 MiB)
with a fresh ``mmap`` and unmaps it at ``free``. A CPU training step allocates and frees the
same tensors every iteration, so each one above 32 MiB is page-faulted in and zeroed by the
kernel again every step: the toy X-Decoder's caption-logit gradients at CLIP's 49408 tokens
(``(240, 49408)`` floats, 47 MiB) took 40 ms each to zero-fill on the 2-core CI machine. With
mmap off and the heap never trimmed, freed blocks are reused from the heap instead.

Measured with ``tools/analysis_tools/benchmark.py`` (train, 20 steps, one thread,
interleaved pairs; docs/benchmark.md): toy X-Decoder joint step 961-1070 -> 724-807 ms; toy
GroupViT (one dataloader worker) 936-962 -> 779-835 ms; toy Painter, whose largest tensor
(11 MiB) glibc's adaptive threshold already keeps in the heap, 836-961 -> 763-911 ms, within
the machine's noise; peak RSS unchanged for all three. The arithmetic does not change: PyTorch
aligns every CPU tensor to 64 bytes either way, and 40 toy X-Decoder steps and 20 toy Painter
steps end in bitwise the same weights (one and two threads).

The cost: resident memory stays at the process's peak until it exits (the heap is not given
back), and a process that forks while its heap is large (dataloader workers started late)
shares more pages copy-on-write. ``tools/train.py`` and ``tools/test.py`` call
:func:`keep_freed_host_memory` first thing when no GPU is present, ``benchmark.py`` on
``--device cpu``; ``MMGV_KEEP_FREED_MEMORY=0`` turns it off. Nothing else calls it: importing
the package changes no allocator, and the test processes keep glibc's default (their in-process
tests measured no faster with it).
"""
import ctypes
import os
import sys

#: ``mallopt`` parameters (glibc ``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: The largest trim threshold ``mallopt`` takes (an int): the top of the heap is kept unless
#: more than 2 GiB of it is free.
MAX_TRIM_THRESHOLD = 2**31 - 1

_applied = False


def keep_freed_host_memory() -> bool:
    """Have glibc serve large allocations from the heap and keep what is freed.

    Returns:
        bool: True if the allocator is (now or already) set so; False where it cannot be (not
        glibc) or ``MMGV_KEEP_FREED_MEMORY=0`` asks not to.
    """
    global _applied
    if _applied:
        return True
    if os.environ.get('MMGV_KEEP_FREED_MEMORY', '1') == '0' or not sys.platform.startswith(
            'linux'):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # the threshold first: setting it also stops glibc from adapting it
    _applied = (mallopt(M_TRIM_THRESHOLD, MAX_TRIM_THRESHOLD) == 1
                and mallopt(M_MMAP_MAX, 0) == 1)
    return _applied
