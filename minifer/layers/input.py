"""InputLayer: the source of a graph, with no weights and a fixed per-batch input shape.

``minifer.Input(shape)`` (in ``minifer.graph``) makes one and returns the symbolic tensor
it feeds into the graph.
"""
import numpy

from .base import Layer, unique_name


class InputLayer(Layer):
    def __init__(self, batch_input_shape, dtype="float32", name=None):
        super().__init__(name=name or _input_name(), dtype=str(numpy.dtype(dtype)))
        self.batch_input_shape = tuple(batch_input_shape)
        self.built, self.input_shape = True, self.batch_input_shape

    def compute_output_shape(self, input_shape):
        return self.batch_input_shape

    def get_config(self):
        return {"name": self.name, "batch_input_shape": list(self.batch_input_shape), "dtype": self.dtype}


def _input_name():
    """Keras 2 numbers inputs from one: ``input_1``, ``input_2``, ... (the paper's tables)."""
    name = unique_name("input")
    return "input_1" if name == "input" else f"input_{int(name.rsplit('_', 1)[1]) + 1}"
