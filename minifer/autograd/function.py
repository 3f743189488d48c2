"""Function: one differentiable primitive, forward and backward on raw arrays.

A subclass implements ``forward(*arrays) -> array`` and ``backward(grad) -> tuple`` with
one gradient (or None) per input. It stores on ``self`` only what its backward needs;
the graph holds the inputs' Tensors, never their intermediate arrays.
"""
from .tensor import Tensor, as_tensor, grad_enabled


class Function:
    inputs = ()

    def __call__(self, *inputs):
        tensors = [as_tensor(x) for x in inputs]
        self.needs_grad = tuple(t.requires_grad for t in tensors)
        record = grad_enabled() and any(self.needs_grad)
        if not record:
            self.needs_grad = (False,) * len(tensors)
        out = Tensor(self.forward(*(t.data for t in tensors)), requires_grad=record)
        if record:
            self.inputs = tensors
            out.creator = self
        return out

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError
