"""Depthwise convolution as kh*kw multiply-adds over flat-shifted rows ("flat shift").

The same view as ``shifts.py``: the padded input (N, Hp, Wp, C) is a matrix of N*Hp*Wp
pixel rows, and tap (i, j) reads row q + i*Wp + j for output row q, a contiguous slice. A
depthwise tap is then an elementwise multiply-add rather than a GEMM, done on flat 1-D
blocks with the tap's C weights tiled to the block's length, so NumPy's inner loop covers the
whole block instead of C elements and the running sum stays in the cache (docs/benchmarks.md).
"""
from ...backend import get_xp
from .columns import add_parts
from .parallel import for_ranges
from .shifts import grid_gradient, tap_offsets
from ..windows import tap_slice, unpad_nhwc
from .windows import contiguous, pad_nhwc

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


def depthwise_forward(x, w, b, strides, pads, out_hw):
    """(y, saved): y (N, Ho, Wo, C*M), channel c*M + m, from ``w`` (kh, kw, C, M); ``saved`` is
    the input itself (backward rebuilds the padded rows from it, ``_flat_input``).

    The stride-1 result on a grid, then its corner. With strides (sh, sw) > 1 the padded input is
    first split into its sh*sw phases (the pixels at rows a + k*sh, columns b + k*sw), stacked:
    tap (i, j) then reads phase (i % sh, j % sw) shifted by (i // sh, j // sw), a stride-1 flat
    shift, and only the pixels kept are computed. With M > 1 the input's channels are repeated M
    times first, so every tap is a plain (rows, C*M) multiply-add.
    """
    xp = get_xp(x)
    kh, kw, c, m = w.shape
    flat, (hq, wq), phase_rows = _phases(x, pads, strides, m)
    sh, sw = strides
    shifts = [(i % sh * sw + j % sw) * phase_rows + i // sh * wq + j // sw for i in range(kh) for j in range(kw)]
    grid = xp.empty((phase_rows, c * m), dtype=x.dtype)
    # grid rows from ``rows`` on are never read: no output pixel lies there
    rows = phase_rows - max(i // sh * wq + j // sw for i in range(kh) for j in range(kw))
    shifted_mac(flat, shifts, w.reshape(kh * kw, c * m), grid, rows)
    return contiguous(grid.reshape(x.shape[0], hq, wq, c * m)[:, :out_hw[0], :out_hw[1]], b), x


def _phases(x, pads, strides, m):
    """(rows, (Hq, Wq), rows per phase): the padded input's sh*sw phases, each (N, Hq, Wq) pixels
    (zeros past a shorter phase's end), stacked as (sh*sw*N*Hq*Wq, C*M) rows; the padded input
    itself at stride 1."""
    flat = _flat_input(x, pads, m)
    sh, sw = strides
    n, hp, wp = x.shape[0], x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1])
    if (sh, sw) == (1, 1):
        return flat, (hp, wp), flat.shape[0]
    hq, wq = -(-hp // sh), -(-wp // sw)
    padded = flat.reshape(n, hp, wp, -1)
    phases = get_xp(x).zeros((sh * sw, n, hq, wq, padded.shape[3]), dtype=x.dtype)
    for a in range(sh):
        for b in range(sw):
            part = padded[:, a::sh, b::sw]
            phases[a * sw + b, :, :part.shape[1], :part.shape[2]] = part
    return phases.reshape(-1, padded.shape[3]), (hq, wq), n * hq * wq


def _flat_input(x, pads, m):
    """The padded input as (pixels, C*M) rows, channels repeated M times. Forward makes it and
    backward makes it again, rather than keep it alive in between: backward saves the input,
    which the graph keeps anyway."""
    flat = pad_nhwc(x, pads).reshape(-1, x.shape[3])
    return get_xp(x).repeat(flat, m, axis=1) if m > 1 else flat


def depthwise_backward(g, saved, w, x_shape, w_shape, strides, pads, out_hw):
    """(dx, dw) of ``depthwise_forward``; dx is None when ``w`` is None, dw when ``saved`` is."""
    xp = get_xp(g)
    kh, kw, c, m = w_shape
    (top, bottom), (left, right) = pads
    n, hp, wp = x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right
    shifts = tap_offsets((kh, kw), wp)
    last, total = shifts[-1], n * hp * wp
    # g on the padded grid (zeros where no output pixel is), after ``last`` zero rows
    if tuple(strides) == (1, 1):
        gg = grid_gradient(g, hp, wp, last)
    else:
        gg = xp.zeros((last + total, c * m), dtype=g.dtype)
        gg[last:].reshape(n, hp, wp, c * m)[tap_slice(0, 0, strides, out_hw)] = g
    dx = dw = None
    if w is not None:
        dflat = xp.empty((total, c * m), dtype=g.dtype)
        shifted_mac(gg, [last - s for s in shifts], w.reshape(kh * kw, c * m), dflat, total)
        if m > 1:
            dflat = dflat.reshape(total, c, m).sum(axis=2)
        dx = contiguous(unpad_nhwc(dflat.reshape(n, hp, wp, c), pads))
    if saved is not None:
        dw = shifted_dot(_flat_input(saved, pads, m), shifts, gg[last:], total - last).reshape(w_shape)
    return dx, dw
