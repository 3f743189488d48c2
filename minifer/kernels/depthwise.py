"""Depthwise convolution as kh*kw multiply-adds over flat-shifted rows ("flat shift").

The same view as ``kernels/shifts.py``: the padded input (N, Hp, Wp, C) is a matrix of
N*Hp*Wp pixel rows, and tap (i, j) reads row q + i*Wp + j for output row q, a contiguous
slice. A depthwise tap is then an elementwise multiply-add rather than a GEMM. Each block
of rows is handled as one flat 1-D run with the tap's C weights tiled to the block's
length, so NumPy's inner loop covers the whole block instead of C elements, and blocks of
``BLOCK`` elements (256 KB) keep the running sum in the cache.

Measured on the 2-core EPYC (1 thread, batch 256, 24x24x32, k = 3): forward with strided
per-tap views and a trailing depth-multiplier axis 46 ms; flat shift on (rows, C) blocks
with broadcast weights 23 ms; flat 1-D blocks with tiled weights 13.5 ms (7 ms at C = 16).
Kernel gradient per tap as a multiply and a BLAS column sum (``ones @ block``) 12 ms,
against ``einsum('pc,pc->c')`` per tap 14-16 ms and accumulating the products 14 ms.
"""
from ..backend import get_xp
from .columns import add_parts
from .parallel import for_ranges

BLOCK = 65536  # elements per block


def _step(channels):
    return max(1, BLOCK // channels)


def shifted_mac(src, offsets, taps, out, rows):
    """out[r] = sum_t src[r + offsets[t]] * taps[t] for r < rows (rows past it are left as
    they are); ``src`` and ``out`` are contiguous (R, C), ``taps`` is (T, C). The rows are
    split over the threads (``kernels/parallel.py``)."""
    xp = get_xp(src)
    c = src.shape[1]
    step = min(_step(c), rows)
    tiles = xp.tile(taps, (1, step))  # (T, step * C): each tap's weights, once per row
    src1, out1 = src.reshape(-1), out.reshape(-1)

    def mac(start, stop):
        tmp = xp.empty(tiles.shape[1], dtype=out.dtype)
        for r0 in range(start, stop, step):
            n = (min(r0 + step, stop) - r0) * c
            acc, t = out1[r0 * c:r0 * c + n], tmp[:n]
            a = (r0 + offsets[0]) * c
            xp.multiply(src1[a:a + n], tiles[0, :n], out=acc)
            for offset, tile in zip(offsets[1:], tiles[1:]):
                a = (r0 + offset) * c
                xp.multiply(src1[a:a + n], tile[:n], out=t)
                acc += t

    for_ranges(mac, xp, 0, rows)


def shifted_dot(src, offsets, g, rows):
    """(T, C) array: [t, c] = sum over r < rows of src[r + offsets[t], c] * g[r, c]; one
    partial per thread, added in order."""
    xp = get_xp(src)
    c = src.shape[1]
    step = min(_step(c), rows)
    ones = xp.ones(step, dtype=g.dtype)
    src1, g1 = src.reshape(-1), g.reshape(-1)

    def dot(start, stop):
        out = xp.zeros((len(offsets), c), dtype=g.dtype)
        tmp = xp.empty(step * c, dtype=g.dtype)
        for r0 in range(start, stop, step):
            r1 = min(r0 + step, stop)
            n = (r1 - r0) * c
            t, gb = tmp[:n], g1[r0 * c:r0 * c + n]
            for k, offset in enumerate(offsets):
                a = (r0 + offset) * c
                xp.multiply(src1[a:a + n], gb, out=t)
                out[k] += ones[:r1 - r0] @ t.reshape(-1, c)
        return out

    return add_parts(for_ranges(dot, xp, 0, rows))
