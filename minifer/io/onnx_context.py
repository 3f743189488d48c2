"""What mapping an ONNX graph onto minifer layers needs: the ``Importer`` the operator tables
(``onnx_ops_*.py``) work through, and the values it holds.

What is known at load time is computed then: initializers, Constant nodes and
the shape arithmetic around Reshape (Shape, Gather, Concat, ...) fold to NumPy arrays, with the
batch size as a ``Dim`` that only a Reshape may carry. A value computed from the model's inputs
is a ``Sym``: a symbolic tensor and its layout, "same" (as ONNX holds it) or "nhwc" (a 4-D NCHW
value held in minifer's NHWC order; a Permute converts, only where an operator needs the other).
The model's inputs and outputs keep ONNX's shapes and layout, so it takes and gives the arrays
onnxruntime does, as they are (no pixel scaling).

An operator, attribute or value minifer cannot honour is refused naming the node, the operator
and the attribute, before a model exists: nothing is half-built.
"""
import collections
import os
import re

import numpy

from .. import layers as L
from ..graph import Input
from ..layers.names import fresh_names
from .onnx_read import OnnxFormatError

Sym = collections.namedtuple("Sym", "tensor layout")
MIN_OPSET = 7  # ONNX 1.2 (2018): numpy-style broadcasting, no consumed_inputs
MAX_FOLDED = 1 << 27  # elements one folded constant may have (VGG's largest weight has 103 million)
TO_NHWC, TO_NCHW = (2, 3, 1), (3, 1, 2)  # Permute dims between the two layouts


class Dim:
    """A size known only when the model runs (the batch, or a size the file leaves open): folded
    shapes carry it where it stands, and arithmetic on it fails (a TypeError)."""

    def __init__(self, name="unknown"):
        self.name = name

    def __repr__(self):
        return self.name


BATCH = Dim("batch")


class OnnxImportError(OnnxFormatError):
    """An ONNX file minifer cannot express; the message names the node, its operator and the attribute."""


class Importer:
    """One file's import: ``Importer(read_onnx(path), operators).model()``; ``operators`` maps an ONNX
    operator type to ``handler(importer, node) -> output value(s)``."""

    def __init__(self, graph, operators):
        self.graph, self.operators = graph, operators
        self.opset = graph.opsets.get("", graph.opsets.get("ai.onnx", 1))
        self.values = dict(graph.initializers)
        self.consumers = collections.defaultdict(list)
        for node in graph.nodes:
            for name in node.inputs:
                self.consumers[name].append(node)
        self.skip, self.aliases = set(), {}  # nodes an earlier handler absorbed (MatMul's bias Add), and their outputs
        self.output_names = {v.name for v in graph.outputs}
        self.names, self.weights = set(), []  # layer names; (layer, arrays) to set once the graph is built
        self.static_batch = None  # the batch size the file's inputs declare, if any

    def model(self):
        if self.opset < MIN_OPSET:
            raise self.error(f"uses ONNX opset {self.opset}; minifer reads opset {MIN_OPSET} and later (older "
                             "operators broadcast and consume inputs differently): convert it with onnx's "
                             "version_converter first")
        with fresh_names():
            inputs = [self.input(v) for v in self.graph.inputs]
            for node in self.graph.nodes:
                if id(node) not in self.skip:
                    self.run(node)
                for alias, source in self.aliases.items():
                    if source in self.values:
                        self.values[alias] = self.values[source]
            outputs = [self.output(v.name) for v in self.graph.outputs]
            name = self.layer_name(os.path.splitext(os.path.basename(self.graph.path))[0])
            model = L.get("Model")(inputs if len(inputs) > 1 else inputs[0],
                                   outputs if len(outputs) > 1 else outputs[0], name=name)
        for layer, arrays in self.weights:
            try:
                layer.set_weights([numpy.asarray(a, dtype=w.dtype) for a, w in zip(arrays, layer.weights)])
            except ValueError as e:  # weights the node's own shapes contradict
                raise self.error(f"its weights do not fit the layers they map onto: {e}") from None
        return model

    def input(self, value):
        if value.dtype is None or value.shape is None or not value.shape:
            raise self.error(f"graph input {value.name!r} is not a tensor of numbers with a batch axis")
        t = Input(value.shape[1:], dtype=value.dtype, name=self.layer_name(value.name))
        self.values[value.name] = Sym(t, "same")
        self.static_batch = value.shape[0]
        return t

    def output(self, name):
        value = self.values[name]
        if not isinstance(value, Sym):
            raise self.error(f"graph output {name!r} does not depend on the model's inputs (it is a constant)")
        return self.same(value).tensor

    def run(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise self.refuse(node, f"is in operator domain {node.domain!r}; minifer reads ONNX's own operators")
        handler = self.operators.get(node.op_type)
        if handler is None:
            raise self.refuse(node, "is an operator minifer does not map onto its layers")
        made = handler(self, node)
        made = made if isinstance(made, list) else [made]
        for i, name in enumerate(node.outputs):
            if not name:
                continue
            if i >= len(made):
                if self.consumers.get(name) or name in self.output_names:
                    raise self.refuse(node, f"output {i} ({name!r}) is used, and minifer makes only the first")
                continue
            if isinstance(made[i], numpy.ndarray) and made[i].size > MAX_FOLDED:
                raise self.refuse(node, f"folds to a constant of {made[i].size} elements (at most {MAX_FOLDED})")
            self.values[name] = made[i]

    # -- errors ----------------------------------------------------------------------
    def error(self, message):
        return OnnxImportError(f"{self.graph.path!r}: {message}")

    def refuse(self, node, why, attribute=None):
        where = f"node {node.name!r} ({node.op_type})" + (f" attribute {attribute!r}" if attribute else "")
        return self.error(f"{where} {why}")

    # -- reading a node ----------------------------------------------------------------
    def value(self, node, index):
        """Input ``index`` of ``node``: a NumPy array (known at load time) or a Sym; None if omitted."""
        if index >= len(node.inputs) or not node.inputs[index]:
            return None
        return self.values[node.inputs[index]]

    def constant(self, node, index, what, default=None):
        value = self.value(node, index)
        if value is None:
            return default
        if isinstance(value, Sym):
            raise self.refuse(node, f"needs its {what} (input {index}) known when the file is read; here it is "
                                    "computed from the model's input")
        return value

    def sym(self, node, index=0):
        value = self.value(node, index)
        if not isinstance(value, Sym):
            raise self.refuse(node, f"input {index} must be computed from the model's input, not a constant")
        return value

    def attributes(self, node, known):
        """``known`` ({name: default}) filled with the node's values; any other attribute is refused."""
        for name in node.attributes:
            if name not in known:
                raise self.refuse(node, "is not an attribute minifer knows how to honour", name)
        return {name: node.attributes.get(name, default) for name, default in known.items()}

    # -- making layers ------------------------------------------------------------------
    def layer_name(self, hint):
        base = re.sub(r"[^0-9A-Za-z_.-]+", "_", hint).strip("_.-") or "layer"
        name, i = base, 1
        while name in self.names:
            name, i = f"{base}_{i}", i + 1
        self.names.add(name)
        return name

    def call(self, node, layer_class, inputs, weights=None, suffix="", **config):
        """``layer_class(**config)`` named after ``node``, called on the tensors of ``inputs`` (a Sym or a
        list); ``weights`` (arrays in the layer's order) are set once the whole graph is built."""
        layer = layer_class(name=self.layer_name(node.name + suffix if node.name else
                                                 node.op_type.lower() + suffix), **config)
        tensors = [s.tensor for s in inputs] if isinstance(inputs, list) else inputs.tensor
        try:
            out = layer(tensors)
        except ValueError as e:  # a ShapeError: the node's shapes do not fit the layer it maps onto
            raise self.refuse(node, f"cannot be mapped onto {type(layer).__name__}: {e}") from None
        if weights is not None:
            self.weights.append((layer, weights))
        return out

    # -- layout ---------------------------------------------------------------------------
    def nhwc(self, node, sym):
        """``sym`` as an NHWC image (an ONNX NCHW value held in minifer's order)."""
        if len(sym.tensor.shape) != 4:
            raise self.refuse(node, f"takes images (N, C, H, W) only, got a value of rank {len(sym.tensor.shape)}")
        if sym.layout == "nhwc":
            return sym
        return Sym(self.call(node, L.Permute, sym, suffix="_to_nhwc", dims=TO_NHWC), "nhwc")

    def same(self, sym, node=None):
        """``sym`` in ONNX's own axis order."""
        if sym.layout == "same":
            return sym
        name = node.name if node is not None else sym.tensor.layer.name
        node = node or _Named(name)
        return Sym(self.call(node, L.Permute, sym, suffix="_to_nchw", dims=TO_NCHW), "same")

    def onnx_shape(self, sym):
        """The ONNX shape of ``sym``, the batch (and any size unknown here) as ``BATCH``/None."""
        shape = sym.tensor.shape
        shape = (shape[0], shape[3], shape[1], shape[2]) if sym.layout == "nhwc" else shape
        return (BATCH, *shape[1:])

    def axis(self, node, sym, axis, attribute="axis"):
        """minifer's axis of ``sym`` for ONNX's ``axis``; the batch axis is refused."""
        rank = len(sym.tensor.shape)
        if not -rank <= axis < rank:
            raise self.refuse(node, f"is {axis}, outside a value of rank {rank}", attribute)
        axis %= rank
        if axis == 0:
            raise self.refuse(node, "is the batch axis, which minifer's layers never mix", attribute)
        return (0, 3, 1, 2)[axis] if sym.layout == "nhwc" else axis

    def per_example(self, node, array, sym):
        """A constant broadcast against ``sym`` (ONNX's order) as one per-example array in ``sym``'s layout."""
        rank = len(sym.tensor.shape)
        array = numpy.asarray(array)
        if array.ndim > rank:
            raise self.refuse(node, f"broadcasts a constant of shape {array.shape} against a value of rank {rank}")
        array = array.reshape((1,) * (rank - array.ndim) + array.shape)
        if array.shape[0] != 1:
            raise self.refuse(node, f"has a constant of shape {array.shape} that differs along the batch axis")
        example = array[0]
        if sym.layout == "nhwc":
            example = example.transpose(1, 2, 0)
        if any(a != 1 and s is not None and a != s for a, s in zip(example.shape, sym.tensor.shape[1:])):
            raise self.refuse(node, f"broadcasts a constant of shape {array.shape} that would grow the value")
        return example


class _Named:
    """A stand-in node for the layers the importer adds itself (output layout conversions)."""

    def __init__(self, name):
        self.name, self.op_type = name, "Output"
