"""Max pooling (the first maximum of a window wins, as in TensorFlow) and global average pooling."""
from ..autograd import Function, ops
from ..kernels import kernels_for
from .geometry import as_pair, window_geometry


class MaxPool2DFunction(Function):
    def __init__(self, pool, strides, padding):
        self.pool, self.strides, self.padding = pool, strides, padding

    def forward(self, x):
        self.pads, self.out_hw = window_geometry(x.shape[1:3], self.pool, self.strides, self.padding)
        if min(self.out_hw) < 1:
            raise ValueError(f"pool {self.pool} is larger than the {self.padding!r} input {tuple(x.shape[1:3])}")
        y, self.saved = kernels_for(x).max_pool_forward(x, self.pool, self.strides, self.pads, self.out_hw,
                                                        keep_index=self.needs_grad[0])
        return y

    def backward(self, g):
        dx = kernels_for(g).max_pool_backward(g, self.saved, self.pool, self.strides, self.pads, self.out_hw)
        return (dx,)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """NHWC max pooling; ``strides`` defaults to ``pool_size`` as in Keras."""
    pool = as_pair(pool_size, "pool_size")
    return MaxPool2DFunction(pool, as_pair(strides, "strides") if strides is not None else pool, padding)(x)


def global_average_pool2d(x):
    """Mean over height and width: (N, H, W, C) -> (N, C)."""
    return ops.mean(x, axis=(1, 2))
