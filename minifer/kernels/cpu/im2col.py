"""Convolution as im2col + one GEMM, the patch matrix built a slice of the batch at a time.

The patches of a slice of the batch (or of a band of one large image's rows) are copied into one
reused buffer of about ``COLS_BUDGET`` bytes and multiplied at once: a small buffer stays in the
cache between the copy and the GEMM, and memory stays bounded whatever the batch or the image
(Chainer's im2col blow-up at large batch; 88 MB for one 1920x1280 photo's stride-8 map).
Each slice is zero-padded into a reused buffer on the way (``padded_slices``); forward keeps
nothing, and backward pads and rebuilds the patches instead of storing them.
"""
from itertools import groupby
from operator import itemgetter

from ...backend import get_xp
from .columns import add_parts
from .parallel import for_ranges
from .windows import im2col, scatter_windows

COLS_BUDGET = 2 ** 20  # bytes of im2col patches built at once
BAND_PIXELS = 256  # output pixels in a band of one image's rows, at least (pieces)


def chunks(n, bytes_per_image, budget=COLS_BUDGET):
    """Slices of the batch whose patches fit ``budget`` bytes (at least one image each)."""
    step = max(1, budget // max(bytes_per_image, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def padded_slices(x, pads, parts):
    """(s, images s of ``x`` zero-padded) for each slice ``s`` of ``parts``, through one reused
    buffer whose border is zeroed once: no padded copy of the whole batch is ever made (at
    ARCH-1's 48x48x16 layers and batch 256, 38 MiB each for forward, dw and dx)."""
    xp = get_xp(x)
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    buffer = xp.zeros((max(p.stop - p.start for p in parts), h + top + bottom, w + left + right, c), dtype=x.dtype)
    for s in parts:
        images = buffer[:s.stop - s.start]
        images[:, top:top + h, left:left + w] = x[s]
        yield s, images


def pieces(n, rows, pixels_per_row, row_bytes, budget=COLS_BUDGET):
    """(images, first output row, end row) pieces whose patches fit ``budget`` bytes: slices of whole
    images, or, where one image's patches overflow it (a photo through a face detector: 88 MB at
    1920x1280's stride-8 map), even bands of one image's rows, at least ``BAND_PIXELS`` output
    pixels each (a GEMM of fewer rows loses more to its per-call costs than the cache saves;
    docs/benchmarks.md, "bands of rows")."""
    band = max(budget // row_bytes, -(-BAND_PIXELS // pixels_per_row), 1)
    if band >= rows:
        return [(s, 0, rows) for s in chunks(n, rows * row_bytes, budget)]
    count = -(-rows // band)
    edges = [rows * k // count for k in range(count + 1)]
    return [(slice(i, i + 1), first, end) for i in range(n) for first, end in zip(edges, edges[1:])]


def im2col_conv(x, pads, w, strides, out_hw, budget=COLS_BUDGET):
    """Convolution of NHWC ``x`` padded by ``pads`` with ``w`` (kh, kw, C, F): (N*Ho*Wo, F) rows."""
    xp = get_xp(x)
    kernel, f = w.shape[:2], w.shape[3]
    (ho, wo), step = out_hw, strides[0]
    wmat = w.reshape(-1, f)
    out = xp.empty((x.shape[0] * ho * wo, f), dtype=x.dtype)
    if not out.size:
        return out
    work = pieces(x.shape[0], ho, wo, wo * wmat.shape[0] * x.itemsize, budget)
    most = max((s.stop - s.start) * (end - first) for s, first, end in work) * wo

    def patches_times_w(i, j):  # work[i:j], on one thread
        cols = xp.empty((most, wmat.shape[0]), dtype=x.dtype)
        groups = [(s, [(first, end) for _, first, end in bands]) for s, bands in groupby(work[i:j], itemgetter(0))]
        for (s, images), (_, bands) in zip(padded_slices(x, pads, [s for s, _ in groups]), groups):
            for first, end in bands:
                rows = slice((s.start * ho + first) * wo, ((s.stop - 1) * ho + end) * wo)
                taps = images[:, first * step:(end - 1) * step + kernel[0]]
                xp.matmul(im2col(taps, kernel, strides, (end - first, wo), cols), wmat, out=out[rows])

    for_ranges(patches_times_w, xp, 0, len(work))
    return out


def im2col_conv_backward(g2, x, x_shape, pads, w, w_shape, strides, out_hw, budget=COLS_BUDGET):
    """(d xpad, dw) from ``g2`` (N*Ho*Wo, F): the gradient of the padded input, scattered, and
    of the kernel; d xpad is None when ``w`` is None, dw when ``x`` is."""
    xp = get_xp(g2)
    kh, kw, c, f = w_shape
    (top, bottom), (left, right) = pads
    n, pixels = x_shape[0], out_hw[0] * out_hw[1]
    padded_shape = (n, x_shape[1] + top + bottom, x_shape[2] + left + right, c)
    dxpad = xp.zeros(padded_shape, dtype=g2.dtype) if w is not None else None
    wmat_t = w.reshape(-1, f).T if w is not None else None
    parts = chunks(n, pixels * kh * kw * c * g2.itemsize, budget)

    def chunk_grads(i, j):  # parts[i:j] on one thread: its part of dw, its images of dxpad
        cols = xp.empty(((parts[0].stop - parts[0].start) * pixels, kh * kw * c), dtype=g2.dtype)
        dw = part = None
        if x is not None:
            dw, part = xp.zeros((kh * kw * c, f), dtype=g2.dtype), xp.empty((kh * kw * c, f), dtype=g2.dtype)
            for s, images in padded_slices(x, pads, parts[i:j]):
                rows = g2[s.start * pixels:s.stop * pixels]
                dw += xp.matmul(im2col(images, (kh, kw), strides, out_hw, cols).T, rows, out=part)
        if dxpad is not None:
            for s in parts[i:j]:
                rows = g2[s.start * pixels:s.stop * pixels]
                dcols = xp.matmul(rows, wmat_t, out=cols[:rows.shape[0]])
                scatter_windows(dcols.reshape(s.stop - s.start, *out_hw, kh, kw, c), dxpad[s],
                                (kh, kw), strides, out_hw)
        return dw

    parts_dw = for_ranges(chunk_grads, xp, 0, len(parts))
    dw = add_parts(parts_dw).reshape(w_shape) if x is not None else None
    return dxpad, dw
