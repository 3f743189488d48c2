"""Define-by-run autograd: Tensor, Function and the arithmetic behind Tensor's operators.

The three modules import one another (a Tensor's operators are Functions that make Tensors);
that cycle stays inside this folder, and everything above sees only this package.
"""
from .tensor import Tensor, as_tensor, grad_enabled, no_grad  # first: it loads ops, and ops loads function
from .function import Function
from . import ops

__all__ = ["Function", "Tensor", "as_tensor", "grad_enabled", "no_grad", "ops"]
