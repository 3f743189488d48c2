"""Max pooling (first maximum of a window wins, as in TensorFlow) and global average pooling."""
from ..backend import get_xp
from ..function import Function
from ..kernels.parallel import for_ranges
from ..kernels.windows import pad_nhwc, tap_slice, unpad_nhwc, windows
from .padding import as_pair, conv_output_length, pad_amounts
from .. import ops


class MaxPool2D(Function):
    """Non-overlapping pools (strides == pool, ARCH-1's 2x2/2) split each axis into
    (out, pool) with a reshape view: no window copy, no argmax. The maximum is taken over the
    pool's rows first (runs of a whole image row) and then over its columns; the first-max
    index is built with uint8 arithmetic on contiguous arrays, and backward multiplies g by
    each tap's mask. Measured at 256x48x48x16 forward + backward: 265 ms (windows + argmax)
    -> 204 (running maxima, masked copies) -> 53 (1 thread, loaded machine). Overlapping pools copy the windows and
    take argmax. Both give the first maximum the gradient, and a window holding NaN outputs
    NaN and sends its gradient to the first NaN."""

    def __init__(self, pool_size, strides, padding):
        self.pool = as_pair(pool_size, "pool_size")
        self.strides = as_pair(strides if strides is not None else self.pool, "strides")
        self.padding = padding

    def forward(self, x):
        xp = get_xp(x)
        self.pads = pad_amounts(x.shape[1:3], self.pool, self.strides, self.padding)
        self.out_hw = tuple(conv_output_length(n, k, s, self.padding)
                            for n, k, s in zip(x.shape[1:3], self.pool, self.strides))
        if min(self.out_hw) < 1:
            raise ValueError(f"pool {self.pool} is larger than the {self.padding!r} input {tuple(x.shape[1:3])}")
        xpad = pad_nhwc(x, self.pads, value=-xp.inf)  # padding never wins a window
        self.padded_shape = xpad.shape
        if self.pool == self.strides:
            (ph, pw), (ho, wo) = self.pool, self.out_hw
            n, c = xpad.shape[0], xpad.shape[3]
            blocks = xpad[:, :ho * ph, :wo * pw].reshape(n, ho, ph, wo, pw, c)
            y = xp.empty((n, ho, wo, c), dtype=x.dtype)
            self.argmax = xp.empty(y.shape, dtype=xp.uint8 if ph * pw < 256 else xp.int32) if any(self.needs_grad) else None

            def pool(a, b):  # images [a, b)
                rows = blocks[a:b, :, 0].copy()  # (b - a, Ho, Wo, pw, C), NaN-propagating maxima
                for i in range(1, ph):
                    xp.maximum(rows, blocks[a:b, :, i], out=rows)
                ya = y[a:b]
                ya[...] = rows[:, :, :, 0]
                for j in range(1, pw):
                    xp.maximum(ya, rows[:, :, :, j], out=ya)
                if self.argmax is not None:
                    self.argmax[a:b] = self._first_max([blocks[a:b, :, i, :, j] for i in range(ph) for j in range(pw)], ya)

            for_ranges(pool, xp, 0, n)  # images split over the threads
            return y
        n, c = x.shape[0], x.shape[3]
        flat = windows(xpad, self.pool, self.strides, self.out_hw).reshape(n, *self.out_hw, -1, c)
        self.argmax = flat.argmax(axis=3).astype(xp.uint8 if flat.shape[3] < 256 else xp.int32)
        return xp.take_along_axis(flat, self.argmax[:, :, :, None].astype(xp.intp), axis=3)[:, :, :, 0]

    def _first_max(self, taps, y):
        """Index of the first tap equal to the maximum (or the first NaN where y is NaN)."""
        xp = get_xp(y)
        index = xp.full(y.shape, len(taps) - 1, dtype=xp.uint8 if len(taps) < 256 else xp.int32)
        has_nan = bool(xp.isnan(y).any())
        for t in range(len(taps) - 2, -1, -1):
            hit = taps[t] == y
            if has_nan:
                hit |= xp.isnan(taps[t])
            index -= (index - t) * hit  # index = t where hit (index > t here: no wrap-around)
        return index

    def backward(self, g):
        xp = get_xp(g)
        if self.pool == self.strides:
            (ph, pw), (ho, wo) = self.pool, self.out_hw
            n, c = g.shape[0], g.shape[3]
            blocks = xp.empty((n, ho, ph, wo, pw, c), dtype=g.dtype)
            finite = bool(xp.isfinite(g).all())  # else g * False would spread inf/NaN to the window

            def spread(a, b):  # images [a, b)
                for t in range(ph * pw):
                    hit = self.argmax[a:b] == t
                    if finite:
                        xp.multiply(g[a:b], hit, out=blocks[a:b, :, t // pw, :, t % pw])
                    else:
                        blocks[a:b, :, t // pw, :, t % pw] = xp.where(hit, g[a:b], 0)

            for_ranges(spread, xp, 0, n)
            dxpad = blocks.reshape(n, ho * ph, wo * pw, c)
            if dxpad.shape != self.padded_shape:  # rows/columns no window reached
                dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
                dxpad[:, :ho * ph, :wo * pw] = blocks.reshape(n, ho * ph, wo * pw, c)
            return (unpad_nhwc(dxpad, self.pads),)
        dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        for t in range(self.pool[0] * self.pool[1]):
            i, j = divmod(t, self.pool[1])
            dxpad[tap_slice(i, j, self.strides, self.out_hw)] += xp.where(self.argmax == t, g, 0)
        return (unpad_nhwc(dxpad, self.pads),)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """NHWC max pooling; ``strides`` defaults to ``pool_size`` as in Keras."""
    return MaxPool2D(pool_size, strides, padding)(x)


def global_average_pool2d(x):
    """Mean over height and width: (N, H, W, C) -> (N, C)."""
    return ops.mean(x, axis=(1, 2))
