"""Stride-1 convolution as shifted GEMMs over the flattened padded input ("flat shift").

View the padded input (N, Hp, Wp, C) as a matrix of N*Hp*Wp pixel rows. Kernel tap
(i, j) reads, for the output pixel at flat row q, the input row q + i*Wp + j, so

    out_grid[q] = sum over taps of xflat[q + i*Wp + j] @ w[i, j]

is kh*kw GEMMs on *contiguous* row slices: no im2col copy, which is what costs most with the
few channels of ARCH-1's 48x48 layers. The output lives on the padded grid; its first Ho x Wo
corner of each image is the convolution. Rows go a block at a time so the running sum stays
in the cache, and each block's GEMM stays under ``SINGLE_THREAD_MNK`` (m*n*k), the size below
which OpenBLAS runs a GEMM on the calling thread instead of waking its own threads.
"""
from ...backend import get_xp
from .columns import add_parts
from .parallel import for_ranges, running_threads
from .windows import pad_nhwc

SINGLE_THREAD_MNK = 65536 * 4  # OpenBLAS's GEMM_MULTITHREAD_THRESHOLD (4) x SMP_THRESHOLD_MIN
MAX_ROWS = 8192


def block_rows(c, f):
    """Pixel rows per GEMM block for c -> f channels."""
    return max(64, min(MAX_ROWS, SINGLE_THREAD_MNK // (c * f)))


def use_shifts(x_shape, kernel, strides):
    """Flat shift wins for stride 1 with 2-31 channels on images whose border is under 25%
    (with one channel im2col is tiny; on small images the discarded border costs more), on one
    thread: its GEMMs are small (K = C), and OpenBLAS's small GEMMs called from two threads at
    once run hardly faster than from one, where im2col's K = kh*kw*C GEMMs run twice as fast
    (docs/benchmarks.md)."""
    (kh, kw), (_, h, w, c) = kernel, x_shape
    border = (h + kh - 1) * (w + kw - 1) / (h * w)
    return strides == (1, 1) and kh * kw > 1 and 1 < c < 32 and border < 1.25 and running_threads() < 2


def tap_offsets(kernel, wp):
    """Row offset of each kernel tap (i, j) in a padded image of row width ``wp`` flattened to pixel rows."""
    return [i * wp + j for i in range(kernel[0]) for j in range(kernel[1])]


def _shifted_sum(src, offsets, taps, out, start, stop, rows=None):
    """out[r] = sum_t src[r + offsets[t]] @ taps[t] for r in [start, stop), block by block."""
    xp = get_xp(src)
    rows = rows or block_rows(*taps[0].shape)
    tmp = xp.empty((min(rows, stop - start), out.shape[1]), dtype=out.dtype)
    for r0 in range(start, stop, rows):
        r1 = min(r0 + rows, stop)
        acc, t = out[r0:r1], tmp[:r1 - r0]
        xp.matmul(src[r0 + offsets[0]:r1 + offsets[0]], taps[0], out=acc)
        for offset, tap in zip(offsets[1:], taps[1:]):
            xp.matmul(src[r0 + offset:r1 + offset], tap, out=t)
            acc += t


def _shifted_dw(src, offsets, g, start, stop, rows=None):
    """(T, C, F) array: [t] = sum over r in [start, stop) of outer(src[r + offsets[t]], g[r])."""
    xp = get_xp(src)
    c, f = src.shape[1], g.shape[1]
    dw = xp.zeros((len(offsets), c, f), dtype=g.dtype)
    part = xp.empty((c, f), dtype=g.dtype)
    rows = rows or block_rows(c, f)
    for r0 in range(start, stop, rows):
        r1 = min(r0 + rows, stop)
        for t, s in enumerate(offsets):
            xp.matmul(src[r0 + s:r1 + s].T, g[r0:r1], out=part)
            dw[t] += part
    return dw


def grid_gradient(g, hp, wp, last):
    """Stride-1 ``g`` (N, Ho, Wo, F) on the padded grid of (hp, wp) pixels (zeros outside each
    image's Ho x Wo corner) as rows, after ``last`` zero rows: what the gather backward reads."""
    n, f = g.shape[0], g.shape[3]
    gg = get_xp(g).empty((last + n * hp * wp, f), dtype=g.dtype)
    gg[:last] = 0
    pad_nhwc(g, ((0, hp - g.shape[1]), (0, wp - g.shape[2])), out=gg[last:].reshape(n, hp, wp, f))
    return gg


def shift_conv(xpad, w, out_hw, rows=None):
    """Stride-1 convolution of padded NHWC ``xpad``; returns a strided (N, Ho, Wo, F) view.
    ``rows`` overrides the GEMM block height (tests use tiny ragged blocks)."""
    xp = get_xp(xpad)
    kh, kw, c, f = w.shape
    n, hp, wp, _ = xpad.shape
    flat = xpad.reshape(-1, c)
    shifts = tap_offsets((kh, kw), wp)
    grid = xp.empty((flat.shape[0], f), dtype=xpad.dtype)
    # rows past the last valid pixel would read beyond the input: they are never used
    taps = list(w.reshape(kh * kw, c, f))
    for_ranges(lambda a, b: _shifted_sum(flat, shifts, taps, grid, a, b, rows), xp, 0, flat.shape[0] - shifts[-1])
    return grid.reshape(n, hp, wp, f)[:, :out_hw[0], :out_hw[1]]


def shift_conv_backward(g, xpad, w, padded_shape, w_shape, rows=None):
    """Gradients of ``shift_conv``: d xpad as (N, Hp, Wp, C) (None when ``w`` is None, as
    the input then needs none) and dw (None when ``xpad`` is None).

    d xpad[p] = sum_t g_grid[p - shift_t] @ w[t].T is the same shifted sum read backwards
    (a gather, no scatter); dw[t] = xflat[shift_t:].T @ g_grid sums over pixel rows.
    """
    xp = get_xp(g)
    kh, kw, c, f = w_shape
    n, hp, wp, _ = padded_shape
    shifts = tap_offsets((kh, kw), wp)
    last = shifts[-1]
    total = n * hp * wp
    gg = grid_gradient(g, hp, wp, last)
    dxpad = dw = None
    if w is not None:
        dxpad = xp.empty((total, c), dtype=g.dtype)
        # contiguous transposed taps: faster GEMMs than strided ones
        taps_t = list(xp.ascontiguousarray(w.reshape(kh * kw, c, f).transpose(0, 2, 1)))
        back = [last - s for s in shifts]
        for_ranges(lambda a, b: _shifted_sum(gg, back, taps_t, dxpad, a, b, rows), xp, 0, total)
        dxpad = dxpad.reshape(n, hp, wp, c)
    if xpad is not None:
        flat, grid = xpad.reshape(-1, c), gg[last:]
        dw = add_parts(for_ranges(lambda a, b: _shifted_dw(flat, shifts, grid, a, b, rows), xp, 0, total - last))
        dw = dw.reshape(w_shape)
    return dxpad, dw
