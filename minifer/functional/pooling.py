"""Max pooling (the first maximum of a window wins, as in TensorFlow), average pooling, global pools.

The sliding pools take Keras's "same" and "valid" padding, or explicit padding and ``ceil_mode``
as PyTorch and ONNX do (``geometry.py``); max pooling's padding never wins a window.
"""
from ..autograd import Function, ops
from ..backend import get_xp
from ..kernels import kernels_for
from ..kernels.windows import tap_slice, unpad_nhwc
from .geometry import as_pair, check_pool_padding, window_geometry


class _PoolFunction(Function):
    """What the sliding pools share: their arguments and the window geometry of their input."""

    def __init__(self, pool, strides, padding, ceil_mode=False):
        self.pool, self.strides, self.padding, self.ceil_mode = pool, strides, padding, ceil_mode

    def geometry(self, x):
        self.pads, self.out_hw = window_geometry(x.shape[1:3], self.pool, self.strides, self.padding, "pool",
                                                 self.ceil_mode)


def _pool_args(pool_size, strides, padding, ceil_mode):
    """(pool, strides, padding, ceil_mode) checked; ``strides`` defaults to ``pool_size`` as in Keras."""
    pool = as_pair(pool_size, "pool_size")
    return (pool, (as_pair(strides, "strides") if strides is not None else pool),
            check_pool_padding(padding, ceil_mode), bool(ceil_mode))


class MaxPool2DFunction(_PoolFunction):
    def forward(self, x):
        self.geometry(x)
        y, self.saved = kernels_for(x).max_pool_forward(x, self.pool, self.strides, self.pads, self.out_hw,
                                                        keep_index=self.needs_grad[0])
        return y

    def backward(self, g):
        dx = kernels_for(g).max_pool_backward(g, self.saved, self.pool, self.strides, self.pads, self.out_hw)
        return (dx,)


def max_pool2d(x, pool_size=2, strides=None, padding="valid", ceil_mode=False):
    """NHWC max pooling; ``strides`` defaults to ``pool_size`` as in Keras."""
    return MaxPool2DFunction(*_pool_args(pool_size, strides, padding, ceil_mode))(x)


def global_average_pool2d(x):
    """Mean over height and width: (N, H, W, C) -> (N, C)."""
    return ops.mean(x, axis=(1, 2))


class AvgPool2DFunction(_PoolFunction):
    """Window means; padded pixels are not counted (TensorFlow's rule for "same"), except explicit
    padding with ``count_include_pad`` (PyTorch's and ONNX's option; ceil mode's overhang never counts).

    One strided slice per window offset, so the same code runs on NumPy and CuPy."""

    def __init__(self, pool, strides, padding, ceil_mode=False, count_include_pad=False):
        super().__init__(pool, strides, padding, ceil_mode)
        self.count_include_pad = count_include_pad

    def _slices(self):
        return [tap_slice(i, j, self.strides, self.out_hw) for i in range(self.pool[0]) for j in range(self.pool[1])]

    def _counted(self, xp, k, x):
        """1 where a pixel of the padded input counts in the means, else 0."""
        counted = self.padding if self.count_include_pad and not isinstance(self.padding, str) else ((0, 0), (0, 0))
        (t, b), (l, r) = counted
        area = xp.ones((1, x.shape[1] + t + b, x.shape[2] + l + r, 1), x.dtype)
        return k.pad(area, tuple((p0 - c0, p1 - c1) for (p0, p1), (c0, c1) in zip(self.pads, counted)))

    def forward(self, x):
        xp, k = get_xp(x), kernels_for(x)
        self.geometry(x)
        padded = k.pad(x, self.pads)
        ones = self._counted(xp, k, x)
        total = sum(padded[s] for s in self._slices())
        self.count = sum(ones[s] for s in self._slices())
        self.in_shape = x.shape
        return total / self.count

    def backward(self, g):
        xp = get_xp(g)
        (top, bottom), (left, right) = self.pads
        n, h, w, c = self.in_shape
        dx = xp.zeros((n, h + top + bottom, w + left + right, c), g.dtype)
        share = g / self.count
        for s in self._slices():
            dx[s] += share
        return (unpad_nhwc(dx, self.pads),)


class GlobalMaxPool2DFunction(Function):
    """Max over height and width; the gradient is shared among ties, as TensorFlow's reduce_max does."""

    def forward(self, x):
        y = x.max(axis=(1, 2))
        self.winners = x == y[:, None, None, :]
        return y

    def backward(self, g):
        ties = self.winners.sum(axis=(1, 2), keepdims=True)
        return (self.winners * (g[:, None, None, :] / ties),)


def avg_pool2d(x, pool_size=2, strides=None, padding="valid", ceil_mode=False, count_include_pad=False):
    """NHWC average pooling; ``strides`` defaults to ``pool_size`` as in Keras."""
    return AvgPool2DFunction(*_pool_args(pool_size, strides, padding, ceil_mode), bool(count_include_pad))(x)


def global_max_pool2d(x):
    """Max over height and width: (N, H, W, C) -> (N, C)."""
    return GlobalMaxPool2DFunction()(x)
