"""Convolutions in NHWC: conv2d as shifted GEMMs or im2col + one GEMM, depthwise as shifted multiply-adds.

conv2d picks per layer: stride-1 convolutions of 2-31 channels use the flat-shift GEMMs of
``kernels/shifts.py`` (no patch copy; 2.6x faster on ARCH-1's 48x48 layers), the rest
im2col. im2col's patch matrix is built a slice of the batch at a time (``_chunks``), so a
conv layer at batch 256 never holds more than ``COLS_BUDGET`` bytes of patches; forward
keeps the padded input only and rebuilds the patches in backward instead of keeping them.
"""
from ..backend import get_xp
from ..function import Function
from ..kernels.columns import column_sum
from ..kernels.shifts import shift_conv, shift_conv_backward, use_shifts
from ..kernels.windows import im2col, pad_nhwc, scatter_windows, tap_slice, unpad_nhwc, windows
from .padding import as_pair, conv_output_length, pad_amounts

COLS_BUDGET = 32 * 2 ** 20  # bytes of im2col patches built at once


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
        xpad = pad_nhwc(x, self.pads)
        n, pixels = x.shape[0], self.out_hw[0] * self.out_hw[1]
        if self.shifted:
            grid = shift_conv(xpad, w, self.out_hw)
            out = xp.add(grid, b) if b is not None else xp.ascontiguousarray(grid)
        else:
            wmat = w.reshape(-1, f)
            out = xp.empty((n * pixels, f), dtype=x.dtype)
            for s in _chunks(n, pixels * wmat.shape[0] * x.itemsize):
                cols = im2col(xpad[s], kernel, self.strides, self.out_hw)
                xp.matmul(cols, wmat, out=out[s.start * pixels:s.stop * pixels])
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
        dw = xp.zeros((kh * kw * c, f), dtype=g.dtype) if self.needs_grad[1] else None
        dxpad = None
        if self.needs_grad[0]:
            dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
            wmat_t = self.w.reshape(-1, f).T
        for s in _chunks(n, pixels * kh * kw * c * g.itemsize):
            rows = g2[s.start * pixels:s.stop * pixels]
            if dw is not None:
                dw += im2col(self.xpad[s], (kh, kw), self.strides, self.out_hw).T @ rows
            if dxpad is not None:
                dcols = (rows @ wmat_t).reshape(s.stop - s.start, *self.out_hw, kh, kw, c)
                scatter_windows(dcols, dxpad[s], (kh, kw), self.strides, self.out_hw)
        dx = unpad_nhwc(dxpad, self.pads) if dxpad is not None else None
        dw = dw.reshape(self.w_shape) if dw is not None else None
        return dx, dw, db


class DepthwiseConv2D(Function):
    """Each input channel c convolved with its own M filters; output channel c*M + m."""

    def __init__(self, strides, padding):
        self.strides, self.padding = as_pair(strides, "strides"), padding

    def forward(self, x, w, b=None):
        xp = get_xp(x)
        kh, kw, c, m = w.shape
        self.pads, self.out_hw = _geometry(x.shape, (kh, kw), self.strides, self.padding)
        xpad = pad_nhwc(x, self.pads)
        out = xp.zeros((x.shape[0], *self.out_hw, c, m), dtype=x.dtype)
        tmp = xp.empty_like(out)
        for i in range(kh):
            for j in range(kw):
                xp.multiply(xpad[tap_slice(i, j, self.strides, self.out_hw)][..., None], w[i, j], out=tmp)
                out += tmp
        out = out.reshape(x.shape[0], *self.out_hw, c * m)
        if b is not None:
            out += b
        self.xpad = xpad if self.needs_grad[1] else None
        self.w = w if self.needs_grad[0] else None
        self.x_shape, self.w_shape = x.shape, w.shape
        return out

    def backward(self, g):
        xp = get_xp(g)
        kh, kw, c, m = self.w_shape
        g5 = g.reshape(g.shape[0], *self.out_hw, c, m)
        dx = dw = None
        if self.needs_grad[1]:
            win = windows(self.xpad, (kh, kw), self.strides, self.out_hw)
            dw = xp.einsum("nhwijc,nhwcm->ijcm", win, g5)
        if self.needs_grad[0]:
            n = g.shape[0]
            dxpad = xp.zeros((n, self.x_shape[1] + sum(self.pads[0]), self.x_shape[2] + sum(self.pads[1]), c), dtype=g.dtype)
            for i in range(kh):
                for j in range(kw):
                    dxpad[tap_slice(i, j, self.strides, self.out_hw)] += (g5 * self.w[i, j]).sum(axis=-1)
            dx = unpad_nhwc(dxpad, self.pads)
        db = g.reshape(-1, c * m).sum(axis=0) if len(self.needs_grad) > 2 and self.needs_grad[2] else None
        return dx, dw, db


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """NHWC convolution with a Keras-layout kernel (kh, kw, in, out)."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2D(strides, padding)(*args)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """NHWC depthwise convolution with a kernel (kh, kw, in, depth_multiplier)."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConv2D(strides, padding)(*args)
