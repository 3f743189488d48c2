"""Split a kernel's independent row blocks over the CPU cores with a small thread pool.

NumPy's ufuncs and OpenBLAS release the GIL, so two Python threads each looping over half
of a kernel's blocks (writing disjoint slices of one preallocated output) use two cores.
``for_ranges(fn, xp, start, stop)`` cuts [start, stop) into one contiguous range per thread
and returns ``[fn(a, b) for each range]`` in order; a reduction (a weight gradient, a column
sum) returns one partial per range and the caller adds them in that order, so a result is
bit-for-bit the same every run for a given thread count.

Nothing happens at import: the pool starts on the first split, with ``set_num_threads(n)``
threads (default ``MINIFER_NUM_THREADS``, else ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``,
else ``os.cpu_count()``). While one of minifer's CPU kernels runs with the pool on
(``serial_blas``), NumPy's OpenBLAS is told to use one thread, so no GEMM spreads itself over
cores the pool already uses (or spin-waits for one: a whole kernel, not only its split, since
OpenBLAS's threads on the 1x1 convolutions' GEMMs cost a third of a training step); its own
count is put back when the kernel returns, so a user's NumPy code keeps the threads it had.
On CuPy (GPU kernels are parallel already) or with one thread, ``for_ranges`` is a plain call
on the whole range and OpenBLAS is left as configured.
"""
import contextlib
import ctypes
import functools
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

from .heap import keep_freed_memory

_threads = None  # None: read from the environment on first use
_pool = None
_pool_lock = threading.Lock()
_blas = None  # (get, set) of NumPy's OpenBLAS thread count, found on first use
_local = threading.local()  # .alongside: inside ``serial()``, how many threads run kernels at once


def default_threads():
    for var in ("MINIFER_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit() and int(os.environ[var]) > 0:
            return int(os.environ[var])
    return os.cpu_count() or 1


def num_threads():
    """How many threads minifer's CPU kernels use (the environment is read once); a kernel called
    inside ``serial()`` runs on its caller's thread, while the others run theirs."""
    global _threads
    if _threads is None:
        _threads = default_threads()
    return _threads


@contextlib.contextmanager
def serial(alongside=1):
    """Kernels called on this thread inside the block run on it alone, while ``alongside - 1``
    other threads run kernels of their own: for a caller that splits the work over the threads
    itself (an inference plan runs whole images per thread), with OpenBLAS on one thread
    already (``for_ranges``)."""
    previous, _local.alongside = getattr(_local, "alongside", None), alongside
    try:
        yield
    finally:
        _local.alongside = previous


def running_threads():
    """How many threads run kernels at once: the pool's, or what ``serial()``'s caller said."""
    alongside = getattr(_local, "alongside", None)
    return num_threads() if alongside is None else alongside


def _split_threads():
    """How many threads a kernel called here splits its work over: 1 inside ``serial()``."""
    return 1 if getattr(_local, "alongside", None) is not None else num_threads()


def set_num_threads(n):
    """Use ``n`` threads in minifer's CPU kernels from the next kernel call on (1: serial)."""
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"the thread count must be a whole number, got {n!r}")
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    with _pool_lock:
        _pool = None  # the next split makes a new pool (see _get_pool)
        _threads = int(n)


def _get_pool(threads):
    """The pool for ``threads``; one of another size is replaced, never shut down: a thread may be
    submitting to it right now, and its idle threads end when the last user lets it go."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers != threads - 1:
            _pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="minifer")
        return _pool


def _find_blas():
    """(get, set) functions of the OpenBLAS NumPy loaded, or (None, None) if there is none."""
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.split()[-1]})
    except OSError:
        return None, None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "")):
            get, put = f"{prefix}get_num_threads{suffix}", f"{prefix}set_num_threads{suffix}"
            if hasattr(lib, get) and hasattr(lib, put):
                return getattr(lib, get), getattr(lib, put)
    return None, None


def blas_threads():
    """NumPy's OpenBLAS thread count (None where it cannot be read)."""
    global _blas
    if _blas is None:
        _blas = _find_blas()
    return _blas[0]() if _blas[0] is not None else None


@contextlib.contextmanager
def blas_single_thread():
    """OpenBLAS on one thread inside the block, its own count restored after."""
    previous = blas_threads()
    if previous is None or previous == 1:
        yield
        return
    _blas[1](1)
    try:
        yield
    finally:
        _blas[1](previous)


def serial_blas(kernel):
    """``kernel`` with OpenBLAS on one thread while it runs, when the pool is on (and, from the
    first call on, freed arrays kept in the heap: ``heap.py``)."""
    @functools.wraps(kernel)
    def run(*args, **kwargs):
        keep_freed_memory()
        if _split_threads() < 2:
            return kernel(*args, **kwargs)
        with blas_single_thread():
            return kernel(*args, **kwargs)
    return run


def split(start, stop, parts, align=1):
    """``parts`` contiguous (a, b) ranges covering [start, stop), boundaries multiples of
    ``align`` from ``start`` (empty ranges dropped)."""
    units = -(-(stop - start) // align)
    cuts = [start + min(stop - start, align * (units * k // parts)) for k in range(parts + 1)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def for_ranges(fn, xp, start, stop, align=1, threads=None):
    """``[fn(a, b) for (a, b) in split(start, stop, threads, align)]``, the ranges run at once,
    the first on the calling thread; one call on the whole range on CuPy or with one thread.
    Each range runs inside ``serial()``: a kernel it calls does not split again (from a pool
    thread that would wait on the pool it occupies)."""
    threads = _split_threads() if threads is None else threads
    if xp is not numpy or threads < 2:
        return [fn(start, stop)]
    ranges = split(start, stop, threads, align)
    if len(ranges) < 2:
        return [fn(start, stop)]
    pool = _get_pool(threads)
    with blas_single_thread():
        futures = [pool.submit(_in_split, fn, a, b, len(ranges)) for a, b in ranges[1:]]
        first = _in_split(fn, *ranges[0], len(ranges))
        return [first] + [f.result() for f in futures]


def _in_split(fn, a, b, alongside):
    with serial(alongside):
        return fn(a, b)


def split_batch(fn, n):
    """``[fn(a, b), ...]`` over images [0, n) cut into one range per thread, every kernel a range
    calls running unsplit on its thread: for a caller whose images are independent (inference),
    where whole images per thread beat split kernels; one range runs alone, unsplit too."""
    def whole(a, b):
        if getattr(_local, "alongside", None) is not None:  # for_ranges split: already serial
            return fn(a, b)
        with serial(1):
            return fn(a, b)
    return for_ranges(whole, numpy, 0, n)
