"""Convolution as im2col + one GEMM, the patch matrix built a slice of the batch at a time.

The patches of ``chunk`` images are copied into one reused buffer of about ``COLS_BUDGET``
bytes and multiplied at once: a small buffer stays in the cache between the copy and the
GEMM, and memory stays bounded whatever the batch (Chainer's im2col blow-up at large batch).
Forward keeps only the padded input; backward rebuilds the patches instead of storing them.
"""
from ...backend import get_xp
from .columns import add_parts
from .parallel import for_ranges
from .windows import im2col, scatter_windows

COLS_BUDGET = 2 ** 20  # bytes of im2col patches built at once


def chunks(n, bytes_per_image, budget=COLS_BUDGET):
    """Slices of the batch whose patches fit ``budget`` bytes (at least one image each)."""
    step = max(1, budget // max(bytes_per_image, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def im2col_conv(xpad, w, strides, out_hw, budget=COLS_BUDGET):
    """Convolution of padded NHWC ``xpad`` with ``w`` (kh, kw, C, F): (N*Ho*Wo, F) rows."""
    xp = get_xp(xpad)
    kernel, f = w.shape[:2], w.shape[3]
    n, pixels = xpad.shape[0], out_hw[0] * out_hw[1]
    wmat = w.reshape(-1, f)
    out = xp.empty((n * pixels, f), dtype=xpad.dtype)
    parts = chunks(n, pixels * wmat.shape[0] * xpad.itemsize, budget)

    def patches_times_w(i, j):  # parts[i:j], on one thread
        cols = xp.empty(((parts[0].stop - parts[0].start) * pixels, wmat.shape[0]), dtype=xpad.dtype)
        for s in parts[i:j]:
            rows = slice(s.start * pixels, s.stop * pixels)
            xp.matmul(im2col(xpad[s], kernel, strides, out_hw, cols), wmat, out=out[rows])

    for_ranges(patches_times_w, xp, 0, len(parts))
    return out


def im2col_conv_backward(g2, xpad, w, padded_shape, w_shape, strides, out_hw, budget=COLS_BUDGET):
    """(d xpad, dw) from ``g2`` (N*Ho*Wo, F); d xpad is None when ``w`` is None, dw when ``xpad`` is."""
    xp = get_xp(g2)
    kh, kw, c, f = w_shape
    n, pixels = padded_shape[0], out_hw[0] * out_hw[1]
    dxpad = xp.zeros(padded_shape, dtype=g2.dtype) if w is not None else None
    wmat_t = w.reshape(-1, f).T if w is not None else None
    parts = chunks(n, pixels * kh * kw * c * g2.itemsize, budget)

    def chunk_grads(i, j):  # parts[i:j] on one thread: its part of dw, its images of dxpad
        cols = xp.empty(((parts[0].stop - parts[0].start) * pixels, kh * kw * c), dtype=g2.dtype)
        dw = part = None
        if xpad is not None:
            dw, part = xp.zeros((kh * kw * c, f), dtype=g2.dtype), xp.empty((kh * kw * c, f), dtype=g2.dtype)
        for s in parts[i:j]:
            rows = g2[s.start * pixels:s.stop * pixels]
            if dw is not None:
                dw += xp.matmul(im2col(xpad[s], (kh, kw), strides, out_hw, cols).T, rows, out=part)
            if dxpad is not None:
                dcols = xp.matmul(rows, wmat_t, out=cols[:rows.shape[0]])
                scatter_windows(dcols.reshape(s.stop - s.start, *out_hw, kh, kw, c), dxpad[s],
                                (kh, kw), strides, out_hw)
        return dw

    parts_dw = for_ranges(chunk_grads, xp, 0, len(parts))
    dw = add_parts(parts_dw).reshape(w_shape) if xpad is not None else None
    return dxpad, dw
