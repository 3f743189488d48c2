"""The CPU set's window copies over NHWC arrays, the images split over the threads.

``windows`` (``kernels/windows.py``) is a zero-copy strided view (N, Ho, Wo, kh, kw, C); reshaping it to the
im2col matrix (N*Ho*Wo, kh*kw*C) makes the one copy a GEMM needs. ``scatter_windows``
is its adjoint: each kernel tap adds its slice back, kh*kw strided additions.
"""
from ...backend import get_xp
from ..windows import pad_images, padded_empty, tap_slice, windows
from .parallel import for_ranges


def pad_nhwc(x, pads, value=0, out=None):
    """``x`` with ``value`` rows and columns around each image, written into ``out`` if given;
    the images are split over the threads (``parallel.py``): a copy of a whole batch is
    memory-bound work a single thread would leave the other core idle for. (``xp.pad``'s
    argument parsing alone costs ten times this on a small image.)"""
    (top, bottom), (left, right) = pads
    if out is None and top == bottom == left == right == 0:
        return x
    out = padded_empty(x, pads) if out is None else out
    for_ranges(lambda a, b: pad_images(x, pads, value, out, a, b), get_xp(x), 0, x.shape[0])
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


def im2col(x, kernel, strides, out_hw, buffer):
    """Patch matrix (N*Ho*Wo, kh*kw*C) in Keras's kernel order (kh, kw, C), copied into the
    front rows of the reused 2-D ``buffer``."""
    xp = get_xp(x)
    n, c = x.shape[0], x.shape[3]
    cols = buffer[:n * out_hw[0] * out_hw[1]]
    xp.copyto(cols.reshape(n, *out_hw, *kernel, c), windows(x, kernel, strides, out_hw))
    return cols


def scatter_windows(cols, out, kernel, strides, out_hw):
    """Adjoint of ``windows``: add (N, Ho, Wo, kh, kw, C) into the padded array ``out``."""
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[tap_slice(i, j, strides, out_hw)] += cols[:, :, :, i, j, :]
    return out
