"""Split a kernel's independent row blocks over the CPU cores with a small thread pool.

NumPy's ufuncs and OpenBLAS release the GIL, so two Python threads each looping over half
of a kernel's blocks (writing disjoint slices of one preallocated output) use two cores.
``for_ranges(fn, xp, start, stop)`` cuts [start, stop) into one contiguous range per thread
and returns ``[fn(a, b) for each range]`` in order; a reduction (a weight gradient, a column
sum) returns one partial per range and the caller adds them in that order, so a result is
bit-for-bit the same every run for a given thread count.

The thread count is ``MINIFER_NUM_THREADS``, else ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``,
else ``os.cpu_count()``. On CuPy (GPU kernels are parallel already) or with one thread,
``for_ranges`` is a plain call on the whole range. The GEMMs inside the split kernels stay
under OpenBLAS's threading threshold (``kernels/shifts.py``); while the pool is on, NumPy's
OpenBLAS is also told to use one thread (``blas_single_thread``), so no BLAS call spreads
itself over cores the pool already uses, and no OpenBLAS worker spin-waits for a busy core.
MINIFER_NUM_THREADS=1 turns both off (the single-threaded code path, OpenBLAS as configured).

Measured on the 2-core EPYC while another training job kept both cores busy (load 3-4.5):
ARCH-1 at 2 threads (``benchmarks/train_step.py --threads 2``) went from 17 to 191 training
images/s and 101 to 713 inference, almost all of it from OpenBLAS no longer spin-waiting; the
48x48x16 -> 16 flat-shift forward 163 -> 93 ms with the pool. Whole-step gains from the second
core itself could not be measured with that core busy (1 vs 2 pool threads within noise).
"""
import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy


def num_threads():
    for var in ("MINIFER_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit() and int(os.environ[var]) > 0:
            return int(os.environ[var])
    return os.cpu_count() or 1


def blas_single_thread():
    """Set NumPy's bundled OpenBLAS to one thread (through its C API; no-op if not found)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.split()[-1]}
    except OSError:
        return
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                break


THREADS = num_threads()
_pool = None
if THREADS > 1:
    _pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="minifer")
    blas_single_thread()


def split(start, stop, parts, align=1):
    """``parts`` contiguous (a, b) ranges covering [start, stop), boundaries multiples of
    ``align`` from ``start`` (empty ranges dropped)."""
    units = -(-(stop - start) // align)
    cuts = [start + min(stop - start, align * (units * k // parts)) for k in range(parts + 1)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def for_ranges(fn, xp, start, stop, align=1, threads=None):
    """``[fn(a, b) for (a, b) in split(start, stop, threads, align)]``, the ranges run at once,
    the first on the calling thread; one call on the whole range on CuPy or with one thread."""
    threads = THREADS if threads is None else threads
    if xp is not numpy or threads < 2 or _pool is None:
        return [fn(start, stop)]
    ranges = split(start, stop, threads, align)
    if len(ranges) < 2:
        return [fn(start, stop)]
    futures = [_pool.submit(fn, a, b) for a, b in ranges[1:]]
    first = fn(*ranges[0])
    return [first] + [f.result() for f in futures]
