"""Symbolic tensors, nodes and their order: what calling a layer on ``minifer.Input`` records.

A symbolic tensor holds only a shape (batch ``None``), a dtype and the node that made it;
a node is one call of a layer: the layer, its inbound symbolic tensors and its outputs.
Nothing is computed here; ``minifer.Model`` later runs the nodes on real Tensors in the
order ``map_graph`` gives, which is Keras's (``functional._map_graph_network``), so
``model.layers`` and ``summary()`` list layers as the paper's tables do: each node gets a
depth, its longest distance to an output; layers run and print by decreasing depth, ties
broken by the order a depth-first walk from the outputs first meets them. Every walk here
uses an explicit stack, never recursion, so deep graphs cannot hit Python's recursion limit.
"""
import numpy

from .layers import InputLayer
from .layers.base import _fmt, shape_of


class GraphError(ValueError):
    """A model whose outputs cannot be computed from its inputs; the message names the tensors."""


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

    def record_call(self, layer, inputs):
        """Record ``layer(inputs)`` as a node (``Layer.__call__`` hands symbolic calls here);
        check the shape and build the weights, compute nothing.

        Weights follow the input's dtype (``Input(..., dtype="float64")`` builds a float64
        graph), as they do for eager calls.
        """
        if isinstance(inputs, (list, tuple)):
            inputs = list(inputs)
            strays = [type(x).__name__ for x in inputs if not getattr(x, "is_symbolic", False)]
            if strays:
                raise TypeError(f"layer '{layer.name}' was called on a list mixing symbolic tensors with {strays}; "
                                "a graph's inputs must all come from minifer.Input")
        output_shape = layer._build_for(shape_of(inputs), self.dtype)
        output_shapes = output_shape if isinstance(output_shape, list) else [output_shape]
        node = Node(layer, inputs, output_shapes, self.dtype)
        return node.outputs if isinstance(output_shape, list) else node.outputs[0]

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


def source(layer):
    """The symbolic tensor an InputLayer feeds into the graph (its one node, made on first use)."""
    if not layer.inbound_nodes:
        Node(layer, None, [layer.batch_input_shape], layer.dtype)
    return layer.inbound_nodes[0].outputs[0]


def Input(shape, name=None, dtype="float32", pixel_range=None):
    """A symbolic tensor of per-example ``shape`` (batch dimension ``None``) to build a Model from.

    ``pixel_range=(low, high)`` declares an image input: uint8 pixels are mapped onto [low, high]
    at the model's door and unscaled pixels are refused (``layers/input.py``); without it the
    model takes its arrays as they are."""
    shape = tuple(shape)
    if not all(d is None or (isinstance(d, (int, numpy.integer)) and d > 0) for d in shape):
        raise ValueError(f"Input shape must hold positive ints or None, got {shape!r}")
    return source(InputLayer((None, *shape), dtype, name, pixel_range))


def check_connected(inputs, outputs):
    """Every output must be computable from ``inputs`` alone; say which output and which input fail."""
    given = {t.node for t in inputs}
    given_names = ", ".join(t.layer.name for t in inputs)
    for output in outputs:
        sources = _sources(output)
        missing = [node.layer.name for node in sources if node not in given]
        if not sources & given:
            raise GraphError(f"output '{output.name}' does not depend on the model's inputs ({given_names}); "
                             f"it is computed from {', '.join(missing)}")
        if missing:
            raise GraphError(f"output '{output.name}' needs input(s) {', '.join(missing)}, which are not among "
                             f"the model's inputs ({given_names})")


def _sources(tensor):
    """The input nodes (nodes with no inbound tensors) that ``tensor`` is computed from."""
    seen, sources, stack = set(), set(), [tensor.node]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not node.inbound:
            sources.add(node)
        stack.extend(t.node for t in node.inbound)
    return sources


def map_graph(inputs, outputs):
    """Return (nodes in run order, layers in Keras order, {node: depth}).

    Inputs no output depends on still appear, first, so a model keeps every input it was given.
    """
    post_order, first_seen = _depth_first(outputs)
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):  # consumers before producers
        depth = max(node_depth.get(node, 0), layer_depth.get(node.layer, 0))
        node_depth[node] = layer_depth[node.layer] = depth
        for t in node.inbound:
            node_depth[t.node] = max(depth + 1, node_depth.get(t.node, 0))
    top = max(node_depth.values()) + 1
    for t in inputs:
        if t.node not in node_depth:
            node_depth[t.node], layer_depth[t.layer], first_seen[t.layer] = top, top, -1
    nodes = sorted(node_depth, key=lambda n: (-node_depth[n], first_seen[n.layer], n.index))
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
    return nodes, layers, node_depth


def _depth_first(outputs):
    """Nodes in post-order (each after its inbound nodes), and each layer's pre-order rank."""
    finished, post_order, first_seen = set(), [], {}
    stack = [(t.node, False) for t in reversed(outputs)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            finished.add(node)
            post_order.append(node)
            continue
        if node in finished:
            continue
        first_seen.setdefault(node.layer, len(first_seen))
        stack.append((node, True))
        stack.extend((t.node, False) for t in reversed(node.inbound) if t.node not in finished)
    return post_order, first_seen


def store_and_release(outputs, inbound, result, values, uses):
    """After one node ran on ``values``: keep each of its outputs some consumer still needs (an
    output nothing reads is never stored) and drop each input this was the last consumer of, so
    memory stays flat however deep the graph. ``Model.call`` and the inference plan walk so."""
    for t, value in zip(outputs, result if isinstance(result, list) else [result]):
        if t in uses:
            values[t] = value
    for t in inbound:
        uses[t] -= 1
        if uses[t] == 0:
            del values[t]
