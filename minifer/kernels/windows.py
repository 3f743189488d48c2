"""Window arithmetic on NHWC arrays that every kernel set shares: written over ``xp``, with no
threads, so the CPU set (which splits the images over its threads) and the CUDA set (which
runs one call) both build on it, and ops above the kernels may take views with it.
"""
from ..backend import get_xp


def pad_images(x, pads, value, out, start, stop):
    """Write images [start, stop) of ``x`` into ``out`` with ``value`` rows and columns around
    them: the border only, then the image, so nothing is written twice."""
    (top, _), (left, _) = pads
    h, w = x.shape[1:3]
    out[start:stop, :top] = value
    out[start:stop, top + h:] = value
    out[start:stop, top:top + h, :left] = value
    out[start:stop, top:top + h, left + w:] = value
    out[start:stop, top:top + h, left:left + w] = x[start:stop]


def padded_empty(x, pads):
    """An uninitialised array the shape of ``x`` padded by ``pads``."""
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    return get_xp(x).empty((n, h + top + bottom, w + left + right, c), dtype=x.dtype)


def lowest(dtype, xp):
    """The value padding takes so that it never wins a maximum: -inf for floats, the smallest
    integer for integers (where -inf does not exist)."""
    return -xp.inf if xp.dtype(dtype).kind == "f" else xp.iinfo(dtype).min


def windows(x, kernel, strides, out_hw):
    """View of every (kh, kw) window of padded ``x``: shape (N, Ho, Wo, kh, kw, C)."""
    xp = get_xp(x)
    n, _, _, c = x.shape
    sn, sh, sw, sc = x.strides
    shape = (n, out_hw[0], out_hw[1], kernel[0], kernel[1], c)
    strides = (sn, sh * strides[0], sw * strides[1], sh, sw, sc)
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def tap_slice(i, j, strides, out_hw):
    """Index of the input pixels kernel tap (i, j) touches, for every output pixel."""
    return (slice(None),
            slice(i, i + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
            slice(j, j + strides[1] * (out_hw[1] - 1) + 1, strides[1]))


def unpad_nhwc(x, pads):
    """The view of ``x`` without its padding."""
    (top, bottom), (left, right) = pads
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]


PATH_DOMAINS = {"shift": "stride 1", "gemm": "a 1x1 kernel at stride 1", "im2col": "any kernel and stride"}


def checked_path(path, offered, kernel, strides):
    """``path`` if this kernel set offers it and it computes this geometry, else a ValueError
    saying which geometry it takes: a formulation outside its domain gives wrong numbers or a
    raw array error, never a refusal of its own."""
    fits = {"shift": tuple(strides) == (1, 1),
            "gemm": tuple(kernel) == (1, 1) and tuple(strides) == (1, 1), "im2col": True}
    if path not in offered:
        raise ValueError(f"conv2d path must be one of {offered}, got {path!r}")
    if not fits[path]:
        raise ValueError(f"conv2d path {path!r} computes {PATH_DOMAINS[path]} only, not kernel {tuple(kernel)} "
                         f"at strides {tuple(strides)}")
    return path
