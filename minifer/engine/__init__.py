"""Models: Model (a graph of layer calls), Sequential (a stack of layers) and their summary table."""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
