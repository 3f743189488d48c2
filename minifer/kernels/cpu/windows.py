"""Sliding windows over NHWC arrays, for convolution and pooling, written over ``xp``.

``windows`` is a zero-copy strided view (N, Ho, Wo, kh, kw, C); reshaping it to the
im2col matrix (N*Ho*Wo, kh*kw*C) makes the one copy a GEMM needs. ``scatter_windows``
is its adjoint: each kernel tap adds its slice back, kh*kw strided additions.
"""
from ...backend import get_xp
from .parallel import for_ranges


def pad_nhwc(x, pads, value=0, out=None):
    """``x`` with ``value`` rows and columns around each image, written into ``out`` if given;
    the images are split over the threads (``parallel.py``): a copy of a whole batch is
    memory-bound work a single thread would leave the other core idle for. (``xp.pad``'s
    argument parsing alone costs ten times this on a small image.)"""
    (top, bottom), (left, right) = pads
    if out is None and top == bottom == left == right == 0:
        return x
    xp = get_xp(x)
    n, h, w, c = x.shape
    if out is None:
        out = xp.empty((n, h + top + bottom, w + left + right, c), dtype=x.dtype)

    def fill(a, b):  # the border only, then the image
        out[a:b, :top] = value
        out[a:b, top + h:] = value
        out[a:b, top:top + h, :left] = value
        out[a:b, top:top + h, left + w:] = value
        out[a:b, top:top + h, left:left + w] = x[a:b]

    for_ranges(fill, xp, 0, n)
    return out


def contiguous(view, add=None):
    """A contiguous copy of the NHWC ``view`` (plus ``add``, a per-channel bias), the images split
    over the threads (the crop after a flat-shift convolution)."""
    xp = get_xp(view)
    out = xp.empty(view.shape, dtype=view.dtype)
    if add is None:
        for_ranges(lambda a, b: xp.copyto(out[a:b], view[a:b]), xp, 0, view.shape[0])
    else:
        for_ranges(lambda a, b: xp.add(view[a:b], add, out=out[a:b]), xp, 0, view.shape[0])
    return out


def windows(x, kernel, strides, out_hw):
    """View of every (kh, kw) window of padded ``x``: shape (N, Ho, Wo, kh, kw, C)."""
    xp = get_xp(x)
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (sn, sh * strides[0], sw * strides[1], sh, sw, sc)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def im2col(x, kernel, strides, out_hw, buffer):
    """Patch matrix (N*Ho*Wo, kh*kw*C) in Keras's kernel order (kh, kw, C), copied into the
    front rows of the reused 2-D ``buffer``."""
    xp = get_xp(x)
    n, c = x.shape[0], x.shape[3]
    cols = buffer[:n * out_hw[0] * out_hw[1]]
    xp.copyto(cols.reshape(n, *out_hw, *kernel, c), windows(x, kernel, strides, out_hw))
    return cols


def tap_slice(i, j, strides, out_hw):
    """Index of the input pixels kernel tap (i, j) touches, for every output pixel."""
    return (slice(None),
            slice(i, i + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
            slice(j, j + strides[1] * (out_hw[1] - 1) + 1, strides[1]))


def scatter_windows(cols, out, kernel, strides, out_hw):
    """Adjoint of ``windows``: add (N, Ho, Wo, kh, kw, C) into the padded array ``out``."""
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[tap_slice(i, j, strides, out_hw)] += cols[:, :, :, i, j, :]
    return out


def unpad_nhwc(x, pads):
    (top, bottom), (left, right) = pads
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]
