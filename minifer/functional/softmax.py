"""Softmax and a numerically stable log-softmax (max subtracted before exp), over one axis.

A softmax's output carries its input as ``.logits`` (Keras does the same), so a
cross-entropy on probabilities can use the logits instead: no layer is changed for it.
"""
from ..autograd import Function, as_tensor
from ..backend import get_xp


class SoftmaxFunction(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_xp(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, g):
        y = self.y
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmaxFunction(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_xp(x)
        z = x - x.max(axis=self.axis, keepdims=True)
        self.y = z - xp.log(xp.exp(z).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, g):
        xp = get_xp(g)
        return (g - xp.exp(self.y) * g.sum(axis=self.axis, keepdims=True),)


def softmax(x, axis=-1):
    """Probabilities along ``axis``; over the last axis the result carries ``x`` as ``.logits``."""
    x = as_tensor(x)
    y = SoftmaxFunction(axis)(x)
    if axis in (-1, x.ndim - 1):
        y.logits = x
    return y


def log_softmax(x, axis=-1):
    return LogSoftmaxFunction(axis)(x)
