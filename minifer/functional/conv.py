"""Convolutions in NHWC: conv2d as shifted GEMMs or im2col + one GEMM, depthwise as shifted multiply-adds.

conv2d picks per layer: stride-1 convolutions of 2-31 channels use the flat-shift GEMMs of
``kernels/shifts.py`` (no patch copy; 2.6x faster on ARCH-1's 48x48 layers), 1x1 stride-1
ones are plain GEMMs on the input, the rest im2col. im2col's patch matrix is built a slice
of the batch at a time (``_chunks``) into one reused buffer of ``COLS_BUDGET`` bytes: 1 MB
chunks stay in the cache between the copy and the GEMM (12x12x64 -> 64 forward + backward
at batch 256: 32 MB chunks 179 ms, 1 MB 117-150 ms); forward keeps the padded input only and
rebuilds the patches in backward instead of keeping them.
"""
from ..backend import get_xp
from ..function import Function
from ..kernels.columns import add_parts, column_sum
from ..kernels.parallel import for_ranges
from ..kernels.depthwise import shifted_dot, shifted_mac
from ..kernels.shifts import shift_conv, shift_conv_backward, tap_offsets, use_shifts
from ..kernels.windows import im2col, pad_nhwc, scatter_windows, tap_slice, unpad_nhwc, windows
from .padding import as_pair, conv_output_length, pad_amounts

COLS_BUDGET = 2 ** 20  # bytes of im2col patches built at once


def _geometry(x_shape, kernel, strides, padding):
    pads = pad_amounts(x_shape[1:3], kernel, strides, padding)
    out_hw = tuple(conv_output_length(n, k, s, padding) for n, k, s in zip(x_shape[1:3], kernel, strides))
    if min(out_hw) < 1:
        raise ValueError(f"kernel {kernel} is larger than the {padding!r} input {tuple(x_shape[1:3])}")
    return pads, out_hw


def _chunks(n, bytes_per_image):
    step = max(1, COLS_BUDGET // max(bytes_per_image, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class Conv2D(Function):
    def __init__(self, strides, padding):
        self.strides, self.padding = as_pair(strides, "strides"), padding

    def forward(self, x, w, b=None):
        xp = get_xp(x)
        kernel, f = w.shape[:2], w.shape[3]
        self.pads, self.out_hw = _geometry(x.shape, kernel, self.strides, self.padding)
        self.shifted = use_shifts(x.shape, kernel, self.strides)
        self.pointwise = kernel == (1, 1) and self.strides == (1, 1)  # patches = x: plain GEMMs
        xpad = pad_nhwc(x, self.pads)
        n, pixels = x.shape[0], self.out_hw[0] * self.out_hw[1]
        if self.shifted:
            grid = shift_conv(xpad, w, self.out_hw)
            out = xp.add(grid, b) if b is not None else xp.ascontiguousarray(grid)
        elif self.pointwise:
            out = (x.reshape(-1, x.shape[3]) @ w.reshape(-1, f)).reshape(n, *self.out_hw, f)
            if b is not None:
                out += b
        else:
            wmat = w.reshape(-1, f)
            out = xp.empty((n * pixels, f), dtype=x.dtype)
            chunks = _chunks(n, pixels * wmat.shape[0] * x.itemsize)

            def patches_times_w(i, j):  # chunks[i:j], on one thread
                cols = xp.empty(((chunks[0].stop - chunks[0].start) * pixels, wmat.shape[0]), dtype=x.dtype)
                for s in chunks[i:j]:
                    rows = slice(s.start * pixels, s.stop * pixels)
                    xp.matmul(im2col(xpad[s], kernel, self.strides, self.out_hw, cols), wmat, out=out[rows])

            for_ranges(patches_times_w, xp, 0, len(chunks))
            if b is not None:
                out += b
            out = out.reshape(n, *self.out_hw, f)
        self.xpad = xpad if self.needs_grad[1] else None
        self.w = w if self.needs_grad[0] else None
        self.x_shape, self.w_shape, self.padded_shape = x.shape, w.shape, xpad.shape
        return out

    def backward(self, g):
        xp = get_xp(g)
        kh, kw, c, f = self.w_shape
        n, pixels = g.shape[0], self.out_hw[0] * self.out_hw[1]
        g2 = g.reshape(-1, f)
        db = column_sum(g2) if len(self.needs_grad) > 2 and self.needs_grad[2] else None
        if self.shifted:
            dxpad, dw = shift_conv_backward(g, self.xpad, self.w, self.padded_shape, self.w_shape)
            return (unpad_nhwc(dxpad, self.pads) if dxpad is not None else None), dw, db
        if self.pointwise:
            x2 = self.xpad.reshape(-1, c) if self.needs_grad[1] else None
            dx = (g2 @ self.w.reshape(c, f).T).reshape(self.x_shape) if self.needs_grad[0] else None
            return dx, (x2.T @ g2).reshape(self.w_shape) if x2 is not None else None, db
        dxpad = None
        if self.needs_grad[0]:
            dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
            wmat_t = self.w.reshape(-1, f).T
        chunks = _chunks(n, pixels * kh * kw * c * g.itemsize)

        def chunk_grads(i, j):  # chunks[i:j] on one thread: its part of dw, its images of dxpad
            cols = xp.empty(((chunks[0].stop - chunks[0].start) * pixels, kh * kw * c), dtype=g.dtype)
            dw = part = None
            if self.needs_grad[1]:
                dw, part = xp.zeros((kh * kw * c, f), dtype=g.dtype), xp.empty((kh * kw * c, f), dtype=g.dtype)
            for s in chunks[i:j]:
                rows = g2[s.start * pixels:s.stop * pixels]
                if dw is not None:
                    dw += xp.matmul(im2col(self.xpad[s], (kh, kw), self.strides, self.out_hw, cols).T, rows, out=part)
                if dxpad is not None:
                    dcols = xp.matmul(rows, wmat_t, out=cols[:rows.shape[0]])
                    scatter_windows(dcols.reshape(s.stop - s.start, *self.out_hw, kh, kw, c), dxpad[s],
                                    (kh, kw), self.strides, self.out_hw)
            return dw

        parts = for_ranges(chunk_grads, xp, 0, len(chunks))
        dw = add_parts(parts) if self.needs_grad[1] else None
        dx = unpad_nhwc(dxpad, self.pads) if dxpad is not None else None
        dw = dw.reshape(self.w_shape) if dw is not None else None
        return dx, dw, db


class DepthwiseConv2D(Function):
    """Each input channel c convolved with its own M filters; output channel c*M + m.

    Flat shift (``kernels/depthwise.py``): the stride-1 result on the padded grid, then the
    strided, cropped corner (strides > 1 compute every position and keep 1 in sh*sw; no
    network here uses them). With M > 1 the input's channels are repeated M times first, so
    every tap is a plain (rows, C*M) multiply-add. SeparableConv2D 256x24x24x32 -> 32 forward
    + backward (1 thread): strided per-tap views, einsum and per-tap sums 226 ms -> 77 ms.
    """

    def __init__(self, strides, padding):
        self.strides, self.padding = as_pair(strides, "strides"), padding

    def forward(self, x, w, b=None):
        xp = get_xp(x)
        kh, kw, c, m = w.shape
        self.pads, self.out_hw = _geometry(x.shape, (kh, kw), self.strides, self.padding)
        xpad = pad_nhwc(x, self.pads)
        n, hp, wp, _ = xpad.shape
        flat = xpad.reshape(-1, c)
        if m > 1:
            flat = xp.repeat(flat, m, axis=1)
        self.shifts = tap_offsets((kh, kw), wp)
        grid = xp.empty((flat.shape[0], c * m), dtype=x.dtype)
        # grid rows from ``rows`` on are never read: no output pixel lies there
        shifted_mac(flat, self.shifts, w.reshape(kh * kw, c * m), grid, flat.shape[0] - self.shifts[-1])
        out = grid.reshape(n, hp, wp, c * m)[tap_slice(0, 0, self.strides, self.out_hw)]
        out = xp.add(out, b) if b is not None else xp.ascontiguousarray(out)
        self.flat = flat if self.needs_grad[1] else None
        self.w = w if self.needs_grad[0] else None
        self.x_shape, self.w_shape, self.padded_shape = x.shape, w.shape, xpad.shape
        return out

    def backward(self, g):
        xp = get_xp(g)
        kh, kw, c, m = self.w_shape
        n, hp, wp, _ = self.padded_shape
        last, total = self.shifts[-1], n * hp * wp
        # g on the padded grid (zeros where no output pixel is), after ``last`` zero rows
        gg = xp.zeros((last + total, c * m), dtype=g.dtype)
        gg[last:].reshape(n, hp, wp, c * m)[tap_slice(0, 0, self.strides, self.out_hw)] = g
        dx = dw = None
        if self.needs_grad[0]:
            dflat = xp.empty((total, c * m), dtype=g.dtype)
            shifted_mac(gg, [last - s for s in self.shifts], self.w.reshape(kh * kw, c * m), dflat, total)
            if m > 1:
                dflat = dflat.reshape(total, c, m).sum(axis=2)
            dx = unpad_nhwc(dflat.reshape(n, hp, wp, c), self.pads)
        if self.needs_grad[1]:
            dw = shifted_dot(self.flat, self.shifts, gg[last:], total - last).reshape(self.w_shape)
        db = column_sum(g.reshape(-1, c * m)) if len(self.needs_grad) > 2 and self.needs_grad[2] else None
        return dx, dw, db


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """NHWC convolution with a Keras-layout kernel (kh, kw, in, out)."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2D(strides, padding)(*args)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """NHWC depthwise convolution with a kernel (kh, kw, in, depth_multiplier)."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConv2D(strides, padding)(*args)
