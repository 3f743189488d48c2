"""ReLU, softmax and a numerically stable log-softmax (max subtracted before exp)."""
from ..backend import get_xp
from ..function import Function


class ReLU(Function):
    def forward(self, x):
        y = get_xp(x).maximum(x, 0)  # NaN stays NaN
        self.positive = y > 0 if self.needs_grad[0] else None
        return y

    def backward(self, g):
        return (g * self.positive,)


class Softmax(Function):
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


class LogSoftmax(Function):
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


def relu(x):
    return ReLU()(x)


def softmax(x, axis=-1):
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(axis)(x)
