"""Tensor: an array, its gradient and the Function that made it.

``backward()`` walks the graph in reverse topological order with an explicit stack
(deep graphs never hit Python's recursion limit) and frees each intermediate gradient
as soon as it has been passed on, and each Function with what it saved once it has run: a
graph goes through backward once. Only leaves (tensors no Function made, such as
weights) keep ``.grad``; it accumulates across calls until ``zero_grad()`` sets it to None.
"""
import contextlib
import threading

import numpy

from ..backend import DEFAULT_DTYPE, device_of, get_xp, to_device, to_numpy

_mode = threading.local()  # .grad: whether this thread records graphs (absent: yes)


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded on this thread (inference, weight updates). The
    switch is per thread, as in PyTorch: threads entering and leaving their own blocks at once
    (an inference plan's) would otherwise leave one another's setting behind."""
    previous, _mode.grad = grad_enabled(), False
    try:
        yield
    finally:
        _mode.grad = previous


def grad_enabled():
    return getattr(_mode, "grad", True)


class Tensor:
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected op
    logits = None  # a softmax's output carries its input here, for a stable cross-entropy

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        xp = get_xp(data)
        if dtype is None and not hasattr(data, "dtype"):
            dtype = DEFAULT_DTYPE  # Python numbers and lists become float32
        self.data = xp.asarray(data, dtype=dtype)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.creator = None
        self.name = name

    # -- the data, and how often it was replaced ---------------------------------
    version = 0

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, array):
        """Every change minifer makes to a weight goes through here (``assign``, the optimizers'
        ``p.data -= ...``, BatchNorm's statistics), so ``version`` tells a cache built from the
        data (an inference plan's folded weights) that it is stale. Writing into the array itself
        (``t.data[...] = v``) is not seen: assign a new array instead."""
        self._data = array
        self.version += 1

    # -- array-like properties -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        """The values (elided past a thousand, as NumPy prints them), then dtype, shape and flags."""
        values = numpy.array2string(to_numpy(self.data), separator=", ", prefix="Tensor(", threshold=1000)
        label = f", name={self.name!r}" if self.name else ""
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({values}, shape={self.shape}, dtype={self.dtype}{grad}{label})"

    @property
    def device(self):
        """"cpu" or "gpu": where the data lives."""
        return device_of(self.data)

    def numpy(self):
        """The data as a NumPy array (copied from the GPU if needed)."""
        return to_numpy(self.data)

    def to(self, device):
        """This tensor on ``device``: itself if it is there, else a copy with no history (a leaf
        that requires grad if this one does)."""
        if device_of(self.data) == device:
            return self
        return Tensor(to_device(self.data, device), requires_grad=self.requires_grad, name=self.name)

    def item(self):
        return self.data.item()

    def detach(self):
        """The same data with no history."""
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def assign(self, array):
        """Replace the data by a copy of ``array`` on this tensor's device, in its dtype (loading
        weights): a copy, so updating the weight in place never changes the caller's array."""
        self.data = get_xp(self.data).array(array, dtype=self.dtype, copy=True)

    # -- backward ----------------------------------------------------------------
    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad")
        xp = get_xp(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar, got shape {self.shape}")
            grad = xp.ones_like(self.data)
        grads = {id(self): xp.asarray(grad, dtype=self.dtype).reshape(self.shape)}
        order = _reverse_topological(self)
        for i, tensor in enumerate(order):
            order[i] = None  # the walk holds no tensor it has passed: its array can go
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            fn = tensor.creator
            if fn is None:
                # a copy: g may be a read-only broadcast view or shared with another leaf (a + b)
                tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g
                continue
            if fn is SPENT:
                raise RuntimeError("backward() through a graph a second time: the first backward freed what "
                                   "its Functions saved; compute the outputs again to build a new graph")
            tensor.creator = SPENT  # the Function and what it saved go once its gradients are out
            for parent, pg in zip(fn.inputs, fn.backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg

    # -- operators (defined in ops.py) -------------------------------------------
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __neg__(self): return _ops.mul(self, -1.0)
    def __pow__(self, exponent): return _ops.power(self, exponent)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis, keepdims)
    def reshape(self, *shape): return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):  # x.transpose((0, 2, 1)), as NumPy allows
            axes = axes[0]
        return _ops.transpose(self, axes or None)
    def matmul(self, other): return _ops.matmul(self, other)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)

    @property
    def T(self):
        return self.transpose()


def _reverse_topological(root):
    """Tensors reachable from ``root`` through creators, each after all its consumers.

    Iterative depth-first post-order: a tensor is marked when it is expanded, not when
    it is pushed, so one reached again by a longer path still finishes after its users.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, finished = stack.pop()
        if finished:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.creator is not None:
            for parent in tensor.creator.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order[::-1]


class _Spent:
    """The creator of a tensor that a backward has gone through: its Function, and the arrays
    that Function kept, are freed as the walk passes, as PyTorch frees a graph's saved tensors
    (an ARCH-3 step at batch 256 kept every activation alive until the walk ended)."""
    inputs = ()


SPENT = _Spent()


def as_tensor(value, like=None):
    """Wrap arrays and numbers; numbers take the dtype of ``like`` (no float64 upcast)."""
    if isinstance(value, Tensor):
        return value
    if like is not None and not hasattr(value, "dtype"):
        return Tensor(get_xp(like.data).asarray(value, dtype=like.dtype))
    return Tensor(value)


from . import ops as _ops  # noqa: E402  (ops needs Tensor defined first)
