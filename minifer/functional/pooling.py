"""Max pooling (first maximum of a window wins, as in TensorFlow) and global average pooling."""
from ..backend import get_xp
from ..function import Function
from ..kernels.windows import pad_nhwc, tap_slice, unpad_nhwc, windows
from .padding import as_pair, conv_output_length, pad_amounts
from .. import ops


class MaxPool2D(Function):
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
        n, c = x.shape[0], x.shape[3]
        taps = self.pool[0] * self.pool[1]
        flat = windows(xpad, self.pool, self.strides, self.out_hw).reshape(n, *self.out_hw, taps, c)
        self.argmax = flat.argmax(axis=3).astype(xp.uint8 if taps < 256 else xp.int32)
        self.padded_shape = xpad.shape
        return xp.take_along_axis(flat, self.argmax[:, :, :, None].astype(xp.intp), axis=3)[:, :, :, 0]

    def backward(self, g):
        xp = get_xp(g)
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
