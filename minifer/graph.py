"""Symbolic tensors and nodes: what calling a layer on ``minifer.Input`` records.

A symbolic tensor holds only a shape (batch ``None``), a dtype and the node that made it;
a node is one call of a layer: the layer, its inbound symbolic tensors and its outputs.
Nothing is computed here; ``minifer.Model`` later runs the nodes on real Tensors.
"""
import numpy

from .layers.base import Layer, _fmt, shape_of, unique_name


class SymbolicTensor:
    is_symbolic = True

    def __init__(self, shape, dtype, node, index=0):
        self.shape = tuple(shape)
        self.dtype = numpy.dtype(dtype)
        self.node = node
        self.index = index  # which output of the node this is

    @property
    def layer(self):
        return self.node.layer

    @property
    def name(self):
        """Keras's reference ``layer[node][tensor]``, node counted over the layer's calls."""
        return f"{self.layer.name}[{self.node.index}][{self.index}]"

    def __repr__(self):
        return f"<SymbolicTensor {self.name} shape={_fmt(self.shape)} dtype={self.dtype}>"


class Node:
    """One call of ``layer``: ``inputs`` as passed (one tensor or a list) and the outputs it made."""

    def __init__(self, layer, inputs, output_shapes, dtype):
        self.layer = layer
        self.inputs = inputs
        self.index = len(layer.inbound_nodes)
        layer.inbound_nodes.append(self)
        self.outputs = [SymbolicTensor(shape, dtype, self, i) for i, shape in enumerate(output_shapes)]

    @property
    def inbound(self):
        """The inbound symbolic tensors as a flat list."""
        if self.inputs is None:
            return []
        return list(self.inputs) if isinstance(self.inputs, (list, tuple)) else [self.inputs]

    def __repr__(self):
        return f"<Node {self.layer.name}[{self.index}] <- {[t.name for t in self.inbound]}>"


def call_symbolic(layer, inputs):
    """Record ``layer(inputs)`` as a node; check the shape and build the weights, compute nothing.

    Weights follow the input's dtype (``Input(..., dtype="float64")`` builds a float64
    graph), as they do for eager calls.
    """
    if isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
        strays = [type(x).__name__ for x in inputs if not getattr(x, "is_symbolic", False)]
        if strays:
            raise TypeError(f"layer '{layer.name}' was called on a list mixing symbolic tensors with {strays}; "
                            "a graph's inputs must all come from minifer.Input")
    first = inputs[0] if isinstance(inputs, list) else inputs
    output_shape = layer._build_for(shape_of(inputs), first.dtype)
    output_shapes = output_shape if isinstance(output_shape, list) else [output_shape]
    node = Node(layer, inputs, output_shapes, first.dtype)
    return node.outputs if isinstance(output_shape, list) else node.outputs[0]


class InputLayer(Layer):
    """The source of a graph: no weights, one node with no inbound tensors."""

    def __init__(self, batch_input_shape, dtype="float32", name=None):
        super().__init__(name=name or _input_name(), dtype=str(numpy.dtype(dtype)))
        self.batch_input_shape = tuple(batch_input_shape)
        self.built, self.input_shape = True, self.batch_input_shape
        self.output = Node(self, None, [self.batch_input_shape], self.dtype).outputs[0]

    def compute_output_shape(self, input_shape):
        return self.batch_input_shape

    def get_config(self):
        return {"name": self.name, "batch_input_shape": list(self.batch_input_shape), "dtype": self.dtype}


def _input_name():
    """Keras 2 numbers inputs from one: ``input_1``, ``input_2``, ... (the paper's tables)."""
    name = unique_name("input")
    return "input_1" if name == "input" else f"input_{int(name.rsplit('_', 1)[1]) + 1}"


def Input(shape, name=None, dtype="float32"):
    """A symbolic tensor of per-example ``shape`` (batch dimension ``None``) to build a Model from."""
    shape = tuple(shape)
    if not all(d is None or (isinstance(d, (int, numpy.integer)) and d > 0) for d in shape):
        raise ValueError(f"Input shape must hold positive ints or None, got {shape!r}")
    return InputLayer((None, *shape), dtype, name).output
