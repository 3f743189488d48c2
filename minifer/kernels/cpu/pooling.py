"""Max pooling with TensorFlow's rule: the first maximum of a window wins, and gets the gradient.

Non-overlapping pools (strides == pool, ARCH-1's 2x2/2) split each axis into (out, pool) with
a reshape view: no window copy, no argmax. The maximum is taken over the pool's rows first
(runs of a whole image row) and then over its columns; the first-max index is built with
uint8 arithmetic on contiguous arrays, and backward multiplies g by each tap's mask.
Overlapping pools copy the windows and take argmax. A window holding NaN outputs NaN and
sends its gradient to the first NaN.
"""
from ...backend import get_xp
from .parallel import for_ranges
from ..windows import lowest, tap_slice, unpad_nhwc, windows
from .windows import pad_nhwc


def _index_dtype(xp, taps):
    return xp.uint8 if taps < 256 else xp.int32


def max_pool_forward(x, pool, strides, pads, out_hw, keep_index):
    """(y, saved); ``saved`` (the first-max tap of every output, and the padded shape) is
    None unless ``keep_index``."""
    xp = get_xp(x)
    xpad = pad_nhwc(x, pads, value=lowest(x.dtype, xp))  # padding never wins a window
    n, c = xpad.shape[0], xpad.shape[3]
    if pool != strides:
        flat = windows(xpad, pool, strides, out_hw).reshape(n, *out_hw, -1, c)
        argmax = flat.argmax(axis=3).astype(_index_dtype(xp, flat.shape[3]))
        y = xp.take_along_axis(flat, argmax[:, :, :, None].astype(xp.intp), axis=3)[:, :, :, 0]
        return y, ((argmax, xpad.shape) if keep_index else None)
    (ph, pw), (ho, wo) = pool, out_hw
    blocks = xpad[:, :ho * ph, :wo * pw].reshape(n, ho, ph, wo, pw, c)
    y = xp.empty((n, ho, wo, c), dtype=x.dtype)
    argmax = xp.empty(y.shape, dtype=_index_dtype(xp, ph * pw)) if keep_index else None

    def pool_images(a, b):  # images [a, b)
        rows = blocks[a:b, :, 0].copy()  # (b - a, Ho, Wo, pw, C), NaN-propagating maxima
        for i in range(1, ph):
            xp.maximum(rows, blocks[a:b, :, i], out=rows)
        ya = y[a:b]
        ya[...] = rows[:, :, :, 0]
        for j in range(1, pw):
            xp.maximum(ya, rows[:, :, :, j], out=ya)
        if argmax is not None:
            argmax[a:b] = _first_max([blocks[a:b, :, i, :, j] for i in range(ph) for j in range(pw)], ya)

    for_ranges(pool_images, xp, 0, n)
    return y, ((argmax, xpad.shape) if keep_index else None)


def _first_max(taps, y):
    """Index of the first tap equal to the maximum (or the first NaN where y is NaN)."""
    xp = get_xp(y)
    index = xp.full(y.shape, len(taps) - 1, dtype=_index_dtype(xp, len(taps)))
    has_nan = bool(xp.isnan(y).any())
    for t in range(len(taps) - 2, -1, -1):
        hit = taps[t] == y
        if has_nan:
            hit |= xp.isnan(taps[t])
        index -= (index - t) * hit  # index = t where hit (index > t here: no wrap-around)
    return index


def max_pool_backward(g, saved, pool, strides, pads, out_hw):
    xp = get_xp(g)
    argmax, padded_shape = saved
    if pool != strides:
        dxpad = xp.zeros(padded_shape, dtype=g.dtype)
        for t in range(pool[0] * pool[1]):
            i, j = divmod(t, pool[1])
            dxpad[tap_slice(i, j, strides, out_hw)] += xp.where(argmax == t, g, 0)
        return unpad_nhwc(dxpad, pads)
    (ph, pw), (ho, wo) = pool, out_hw
    n, c = g.shape[0], g.shape[3]
    blocks = xp.empty((n, ho, ph, wo, pw, c), dtype=g.dtype)
    finite = bool(xp.isfinite(g).all())  # else g * False would spread inf/NaN to the window

    def spread(a, b):  # images [a, b)
        for t in range(ph * pw):
            hit = argmax[a:b] == t
            if finite:
                xp.multiply(g[a:b], hit, out=blocks[a:b, :, t // pw, :, t % pw])
            else:
                blocks[a:b, :, t // pw, :, t % pw] = xp.where(hit, g[a:b], 0)

    for_ranges(spread, xp, 0, n)
    dxpad = blocks.reshape(n, ho * ph, wo * pw, c)
    if dxpad.shape != tuple(padded_shape):  # rows/columns no window reached
        dxpad = xp.zeros(padded_shape, dtype=g.dtype)
        dxpad[:, :ho * ph, :wo * pw] = blocks.reshape(n, ho * ph, wo * pw, c)
    return unpad_nhwc(dxpad, pads)
