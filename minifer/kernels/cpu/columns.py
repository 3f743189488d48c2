"""Per-channel work on (pixels, channels) matrices: BLAS column sums and blocked 1-D passes.

NumPy's ``x.sum(axis=0)`` over a tall (P, C) array with few channels runs an inner loop of
only C elements per row; ``ones(P) @ x`` hands the same sum to BLAS. Broadcasting a
per-channel vector over (P, C) has the same short loop, so ``blocks`` walks the flat array a
block of whole rows at a time with the vector ``tiled`` to the block's length: one long 1-D
loop per block, and consecutive passes over a block stay in the cache (docs/benchmarks.md).
"""
from ...backend import get_xp
from .parallel import for_ranges

BLOCK = 65536  # elements per block (256 KB of float32)


def column_sum(x2):
    """Sum of a 2-D array over its rows: shape (C,)."""
    xp = get_xp(x2)
    return xp.ones(x2.shape[0], dtype=x2.dtype) @ x2


def blocks(size, channels):
    """(start, stop) ranges of about ``BLOCK`` elements, whole rows each, over a flat (P, C) array."""
    step = max(1, BLOCK // channels) * channels
    return [(a, min(a + step, size)) for a in range(0, size, step)]


def tiled(v, spans):
    """Per-channel vector ``v`` repeated over the rows of the first (longest) of ``spans``."""
    return get_xp(v).tile(v, (spans[0][1] - spans[0][0]) // v.shape[0])


def over_blocks(fn, xp, spans):
    """``fn(part)`` for contiguous parts of the ``spans`` list, one part per thread
    (``kernels/parallel.py``); returns the results in order."""
    return for_ranges(lambda i, j: fn(spans[i:j]), xp, 0, len(spans))


def add_parts(parts):
    """Sum of per-thread partial results, in their fixed order."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
