"""ReLU, softmax and a numerically stable log-softmax (max subtracted before exp)."""
from ..backend import get_xp
from ..function import Function
from ..kernels.parallel import for_ranges

PIECE = 65536  # elements: smaller arrays stay on one thread


class ReLU(Function):
    """Flat passes split over the threads in 64K-element pieces (``kernels/parallel.py``)."""

    def forward(self, x):
        xp = get_xp(x)
        x1 = xp.ascontiguousarray(x).reshape(-1)
        y = xp.empty_like(x1)
        self.positive = xp.empty(x1.shape, dtype=bool) if self.needs_grad[0] else None

        def relu(a, b):
            xp.maximum(x1[a:b], 0, out=y[a:b])  # NaN stays NaN
            if self.positive is not None:
                xp.greater(y[a:b], 0, out=self.positive[a:b])

        for_ranges(relu, xp, 0, x1.size, align=PIECE)
        if self.positive is not None:
            self.positive = self.positive.reshape(x.shape)
        return y.reshape(x.shape)

    def backward(self, g):
        xp = get_xp(g)
        g1, mask = xp.ascontiguousarray(g).reshape(-1), self.positive.reshape(-1)
        dx = xp.empty_like(g1)
        for_ranges(lambda a, b: xp.multiply(g1[a:b], mask[a:b], out=dx[a:b]), xp, 0, g1.size, align=PIECE)
        return (dx.reshape(g.shape),)


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
