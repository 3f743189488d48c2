"""Dense, dropout, flatten and clipping: small primitives built on Tensor arithmetic."""
from .. import random
from ..autograd import Function, as_tensor
from ..backend import get_xp


def dense(x, kernel, bias=None):
    """x @ kernel (+ bias); kernel is (in, units) as in Keras."""
    y = x @ kernel
    return y if bias is None else y + bias


def dropout(x, rate, training=False, rng=None, mask_shape=None):
    """Inverted dropout: zero a ``rate`` fraction and scale the rest by 1/(1-rate).

    Identity at inference, so a trained model needs no rescaling. ``mask_shape`` (broadcast
    against x) drops whole groups: (N, 1, 1, C) drops channels (``spatial_dropout2d``).
    """
    if not training or rate == 0:
        return x
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
    x = as_tensor(x)
    xp = get_xp(x.data)
    rng = rng or random.generator()
    keep = rng.random(x.shape if mask_shape is None else mask_shape, dtype="float32") >= rate
    mask = xp.asarray(keep, dtype=x.dtype) * x.dtype.type(1.0 / (1.0 - rate))
    return x * mask


def flatten(x):
    """(N, ...) -> (N, prod(...)) in row-major (Keras's NHWC) order."""
    x = as_tensor(x)
    return x.reshape(x.shape[0], -1)


class ClipFunction(Function):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        self.inside = (x >= self.low) & (x <= self.high)
        return get_xp(x).clip(x, self.low, self.high)

    def backward(self, g):
        return (g * self.inside,)


def clip(x, low, high):
    return ClipFunction(low, high)(x)
