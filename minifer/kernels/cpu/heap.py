"""Keep the memory of freed arrays in the process heap, so the next step's arrays reuse it.

glibc hands every allocation over its mmap threshold (128 KiB to 32 MiB, raised as it goes) its
own fresh pages from the kernel and gives them back on free. A training step allocates and frees
hundreds of such arrays (activations, gradients, im2col buffers), so every step the kernel maps
and zero-fills its whole working set again, one page fault per 4 KiB, on one core: ARCH-1 at
batch 256 took 35,000 faults and 0.25 s of system time per step (docs/benchmarks.md). With the
thresholds raised, freed arrays go back to the heap and the next step takes the same memory
again: 3 faults a step. The peak stays the same (the step needs that memory anyway); what
changes is that the process keeps it after the arrays are freed, as PyTorch's CPU allocator
and every long-running trainer do.

Applied once, on the first call of one of minifer's CPU kernels (never at import), on glibc
only; ``MINIFER_KEEP_FREED_MEMORY=0`` leaves malloc as it is.
"""
import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
LIMIT = 2 ** 30  # allocations up to 1 GiB come from the heap; freed memory up to 1 GiB is kept

_applied = None


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds once; True when they are raised."""
    global _applied
    if _applied is None:
        _applied = os.environ.get("MINIFER_KEEP_FREED_MEMORY", "1") != "0" and _raise_thresholds()
    return _applied


def _raise_thresholds():
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, LIMIT)) and bool(mallopt(M_TRIM_THRESHOLD, LIMIT))
