"""Tensor arithmetic: the elementwise, reduction and shape primitives behind the operators.

Broadcasting's adjoint is ``unbroadcast``: a gradient is summed back over the axes the
forward pass stretched, so every input receives a gradient of its own shape.
"""
from ..backend import get_xp
from .function import Function
from .tensor import Tensor, as_tensor


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (the adjoint of broadcasting to grad.shape)."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class _BinaryFunction(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return self.compute(a, b)


class AddFunction(_BinaryFunction):
    compute = staticmethod(lambda a, b: a + b)

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class SubFunction(_BinaryFunction):
    compute = staticmethod(lambda a, b: a - b)

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class MulFunction(_BinaryFunction):
    def compute(self, a, b):
        self.a = a if self.needs_grad[1] else None
        self.b = b if self.needs_grad[0] else None
        return a * b

    def backward(self, g):
        ga = unbroadcast(g * self.b, self.shapes[0]) if self.needs_grad[0] else None
        gb = unbroadcast(g * self.a, self.shapes[1]) if self.needs_grad[1] else None
        return ga, gb


class DivFunction(_BinaryFunction):
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        ga = unbroadcast(g / self.b, self.shapes[0]) if self.needs_grad[0] else None
        gb = unbroadcast(-g * self.a / (self.b * self.b), self.shapes[1]) if self.needs_grad[1] else None
        return ga, gb


class PowerFunction(Function):
    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        self.a = a
        return a ** self.exponent

    def backward(self, g):
        return (g * self.exponent * self.a ** (self.exponent - 1),)


class ExpFunction(Function):
    def forward(self, a):
        self.y = get_xp(a).exp(a)
        return self.y

    def backward(self, g):
        return (g * self.y,)


class LogFunction(Function):
    def forward(self, a):
        self.a = a
        return get_xp(a).log(a)

    def backward(self, g):
        return (g / self.a,)


class MatMulFunction(Function):
    """2-D (or batched) matrix product."""

    def forward(self, a, b):
        self.a = a if self.needs_grad[1] else None
        self.b = b if self.needs_grad[0] else None
        self.a_shape, self.b_shape = a.shape, b.shape
        return a @ b

    def backward(self, g):
        xp = get_xp(g)
        # unbroadcast: a (N, T, in) @ kernel (in, units) stretched the kernel over N
        ga = unbroadcast(g @ xp.swapaxes(self.b, -1, -2), self.a_shape) if self.needs_grad[0] else None
        gb = unbroadcast(xp.swapaxes(self.a, -1, -2) @ g, self.b_shape) if self.needs_grad[1] else None
        return ga, gb


class SumFunction(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        self.shape = a.shape
        return a.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g):
        xp = get_xp(g)
        if not self.keepdims and self.axis is not None:
            axes = (self.axis,) if isinstance(self.axis, int) else self.axis
            g = xp.expand_dims(g, tuple(a % len(self.shape) for a in axes))
        return (xp.broadcast_to(g, self.shape),)


class ReshapeFunction(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.in_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, g):
        return (g.reshape(self.in_shape),)


class TransposeFunction(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, a):
        return a.transpose(self.axes)

    def backward(self, g):
        inverse = None if self.axes is None else tuple(sorted(range(len(self.axes)), key=self.axes.__getitem__))
        return (g.transpose(inverse),)


class GetItemFunction(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return a[self.index]

    def backward(self, g):
        xp = get_xp(g)
        out = xp.zeros(self.shape, dtype=self.dtype)
        xp.add.at(out, self.index, g)  # repeated indices accumulate
        return (out,)


def _pair(a, b):
    """Make Tensors of both operands; a plain number takes the other's dtype."""
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    return a, as_tensor(b, like=a)


def add(a, b): return AddFunction()(*_pair(a, b))
def sub(a, b): return SubFunction()(*_pair(a, b))
def mul(a, b): return MulFunction()(*_pair(a, b))
def div(a, b): return DivFunction()(*_pair(a, b))
def power(a, exponent): return PowerFunction(exponent)(a)
def exp(a): return ExpFunction()(a)
def log(a): return LogFunction()(a)
def matmul(a, b): return MatMulFunction()(*_pair(a, b))
def sum(a, axis=None, keepdims=False): return SumFunction(axis, keepdims)(a)
def reshape(a, shape): return ReshapeFunction(tuple(shape) if not isinstance(shape, int) else (shape,))(a)
def transpose(a, axes=None): return TransposeFunction(tuple(axes) if axes else None)(a)
def getitem(a, index): return GetItemFunction(index)(a)


def mean(a, axis=None, keepdims=False):
    a = as_tensor(a)
    axes = range(a.ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    return mul(sum(a, axis, keepdims), 1.0 / count)
