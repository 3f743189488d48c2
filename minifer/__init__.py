"""minifer: a small, readable deep-learning library on NumPy and CuPy."""
from .tensor import Tensor, no_grad  # first: ops and Function build on it
from . import functional, initializers, layers, optimizers, random, regularizers
from .graph import Input
from .network import Model
from .sequential import Sequential
from .io import load, save
from . import models

__version__ = "0.1.0"
