"""The CPU kernel pair of conv2d: three formulations, one chosen per layer.

"shift": stride-1 convolutions of 2-31 channels as shifted GEMMs (``shifts.py``, no patch
copy); "gemm": 1x1 stride-1 convolutions as one plain GEMM on the input; "im2col": the rest
(``im2col.py``). All three give the same result; ``conv2d_path`` picks the fastest for the
shape and for how many threads run kernels at once (the flat shift only when one does).
"""
from ...backend import get_xp
from .columns import add_parts
from .im2col import COLS_BUDGET, im2col_conv, im2col_conv_backward
from .parallel import for_ranges
from .shifts import shift_conv, shift_conv_backward, use_shifts
from ..windows import checked_path, unpad_nhwc
from .windows import contiguous, pad_nhwc

CONV_PATHS = ("shift", "gemm", "im2col")


def conv2d_path(x_shape, kernel, strides, path=None):
    """``path`` checked against the geometry, or (None) the fastest formulation for it."""
    if path is not None:
        return checked_path(path, CONV_PATHS, kernel, strides)
    if use_shifts(x_shape, kernel, strides):
        return "shift"
    return "gemm" if tuple(kernel) == (1, 1) and tuple(strides) == (1, 1) else "im2col"


def conv2d_forward(x, w, b, strides, pads, out_hw, path, budget=COLS_BUDGET):
    """(y, saved): y = conv(x, w) + b as contiguous (N, Ho, Wo, F); ``saved`` is what
    ``conv2d_backward`` reads: the input itself, which the graph keeps anyway (backward pads it
    again rather than keep a padded copy alive: ARCH-1 at batch 256, 150 MiB for 2% of a step)."""
    n, f = x.shape[0], w.shape[3]
    if path == "gemm":
        y = row_product(x.reshape(-1, x.shape[3]), w.reshape(-1, f)).reshape(n, *out_hw, f)
    elif path == "shift":  # the bias added while the strided corner is copied out
        return contiguous(shift_conv(pad_nhwc(x, pads), w, out_hw), b), x
    else:
        y = im2col_conv(x, pads, w, strides, out_hw, budget).reshape(n, *out_hw, f)
    if b is not None:
        y += b
    return y, x


def conv2d_backward(g, saved, w, x_shape, w_shape, strides, pads, out_hw, path, budget=COLS_BUDGET):
    """(dx, dw) of ``conv2d_forward``; dx is None when ``w`` is None, dw when ``saved`` is."""
    kh, kw, c, f = w_shape
    g2 = g.reshape(-1, f)
    if path == "gemm":
        dx = row_product(g2, w.reshape(c, f).T).reshape(x_shape) if w is not None else None
        dw = None
        if saved is not None:
            x2 = saved.reshape(-1, c)
            dw = add_parts(for_ranges(lambda a, b: x2[a:b].T @ g2[a:b], get_xp(g), 0, len(g2))).reshape(w_shape)
        return dx, dw
    if path == "shift":
        (top, bottom), (left, right) = pads
        padded_shape = (x_shape[0], x_shape[1] + top + bottom, x_shape[2] + left + right, c)
        xpad = pad_nhwc(saved, pads) if saved is not None else None
        dxpad, dw = shift_conv_backward(g, xpad, w, padded_shape, w_shape)
    elif tuple(strides) == (1, 1):  # dx as a convolution of g: a gather, no scatter
        dw = im2col_conv_backward(g2, saved, x_shape, pads, None, w_shape, strides, out_hw, budget)[1]
        return (input_gradient(g, w, x_shape, pads, budget) if w is not None else None), dw
    else:
        dxpad, dw = im2col_conv_backward(g2, saved, x_shape, pads, w, w_shape, strides, out_hw, budget)
    return (contiguous(unpad_nhwc(dxpad, pads)) if dxpad is not None else None), dw


def row_product(a, b):
    """a @ b with a's rows split over the threads (OpenBLAS is on one thread inside the kernels)."""
    xp = get_xp(a)
    out = xp.empty((a.shape[0], b.shape[1]), dtype=a.dtype)
    for_ranges(lambda i, j: xp.matmul(a[i:j], b, out=out[i:j]), xp, 0, a.shape[0])
    return out


def input_gradient(g, w, x_shape, pads, budget=COLS_BUDGET):
    """dx of a stride-1 convolution, itself a stride-1 convolution: of g padded by the kernel's
    reach less the forward padding, with the kernel turned 180 degrees and its in and out
    channels swapped. im2col then gathers what the transposed product would scatter (kh*kw
    strided additions): 1.3-5x faster at ARCH-1's shapes (docs/benchmarks.md)."""
    kh, kw = w.shape[:2]
    (top, bottom), (left, right) = pads
    flipped = get_xp(w).ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
    back = ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right))
    return conv2d_forward(g, flipped, None, (1, 1), back, tuple(x_shape[1:3]), "im2col", budget)[0]
