"""ONNX's elementwise operators as minifer layers: activations, (log-)softmax, dropout, and the
arithmetic Add, Sub, Mul, Div and Sum (folded when every input is known at load time).

An activation keeps its input's layout. Arithmetic between two computed values is an Add,
Subtract or Multiply layer; with a constant it is a Rescaling (a scalar) or a Scale (an array,
broadcast per example), so the constant travels with the model as its weights.
"""
import math

import numpy

from .. import layers as L
from .onnx_context import Sym
from .onnx_ops_shape import fold, known


def activation(name):
    def handler(importer, node):
        importer.attributes(node, {})
        return Sym(importer.call(node, L.Activation, importer.sym(node), activation=name), importer.sym(node).layout)
    return handler


def layer(make, **defaults):
    """A handler calling ``make(attributes)``'s (layer class, config) on the node's one input."""
    def handler(importer, node):
        x = importer.sym(node)
        layer_class, config = make(importer.attributes(node, defaults))
        return Sym(importer.call(node, layer_class, x, **config), x.layout)
    return handler


def then(importer, node, x, layer_class, suffix, **config):
    """One more layer after ``x`` for the same node (its name gets ``suffix``)."""
    return Sym(importer.call(node, layer_class, x, suffix=suffix, **config), x.layout)


def selu(importer, node):
    a = importer.attributes(node, {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875})
    x = importer.sym(node)
    return then(importer, node, then(importer, node, x, L.ELU, "", alpha=a["alpha"]), L.Rescaling, "_gamma",
                scale=a["gamma"])


def hard_sigmoid(importer, node):
    """max(0, min(1, alpha x + beta)): a Rescaling, then a ReLU capped at 1."""
    a = importer.attributes(node, {"alpha": 0.2, "beta": 0.5})
    x = then(importer, node, importer.sym(node), L.Rescaling, "", scale=a["alpha"], offset=a["beta"])
    return then(importer, node, x, L.ReLU, "_clip", max_value=1.0)


def gelu(importer, node):
    if importer.attributes(node, {"approximate": "none"})["approximate"] != "none":
        raise importer.refuse(node, "is the tanh approximation, which minifer's activations do not name",
                              "approximate")
    return activation("gelu")(importer, node)


def clip(importer, node):
    """min(max(x, low), high): a capped ReLU, moved by Rescalings where ``low`` is not 0."""
    if importer.opset < 11:
        a = importer.attributes(node, {"min": -math.inf, "max": math.inf})
        low, high = a["min"], a["max"]
    else:
        importer.attributes(node, {})
        low, high = (float(importer.constant(node, i, what, math.inf * sign))
                     for i, what, sign in ((1, "min", -1), (2, "max", 1)))
    x = importer.sym(node)
    if low > high:
        raise importer.refuse(node, f"has min {low} above max {high}: every output would be the max")
    if low == -math.inf and high == math.inf:
        return x
    if low == -math.inf:  # min(x, high) = high - relu(high - x)
        y = then(importer, node, x, L.Rescaling, "_flip", scale=-1.0, offset=high)
        return then(importer, node, then(importer, node, y, L.ReLU, ""), L.Rescaling, "_back", scale=-1.0,
                    offset=high)
    cap = None if high == math.inf else high - low
    if low == 0:
        return then(importer, node, x, L.ReLU, "", max_value=cap)
    y = then(importer, node, x, L.Rescaling, "_shift", scale=1.0, offset=-low)
    return then(importer, node, then(importer, node, y, L.ReLU, "", max_value=cap), L.Rescaling, "_back",
                scale=1.0, offset=low)


def prelu(importer, node):
    importer.attributes(node, {})
    x = importer.sym(node)
    slope = importer.per_example(node, importer.constant(node, 1, "slope"), x)
    shared = [i + 1 for i, d in enumerate(slope.shape) if d == 1]
    return Sym(importer.call(node, L.PReLU, x, [slope], shared_axes=shared or None), x.layout)


def softmax(name, layer_class=None):
    """Softmax or LogSoftmax over ``axis``: before opset 13 over everything from ``axis`` on (one
    axis only where it is the last)."""
    def handler(importer, node):
        x = importer.sym(node)
        rank = len(x.tensor.shape)
        axis = importer.attributes(node, {"axis": 1 if importer.opset < 13 else -1})["axis"]
        if importer.opset < 13 and any(d != 1 for d in importer.onnx_shape(x)[axis % rank + 1:]):
            raise importer.refuse(node, f"is {axis}: before opset 13 it spans every axis from there on, which "
                                        "minifer's softmax does not", "axis")
        axis = importer.axis(node, x, axis)
        if layer_class is not None:
            return Sym(importer.call(node, layer_class, x, axis=axis), x.layout)
        if axis == rank - 1:
            return Sym(importer.call(node, L.Activation, x, activation=name), x.layout)
        order = [a for a in range(1, rank) if a != axis] + [axis]  # the axis last, then back
        y = importer.call(node, L.Permute, x, suffix="_move", dims=order)
        y = importer.call(node, L.Activation, Sym(y, x.layout), activation=name)
        back = [order.index(a) + 1 for a in range(1, rank)]
        return Sym(importer.call(node, L.Permute, Sym(y, x.layout), suffix="_back", dims=back), x.layout)
    return handler


def dropout(importer, node):
    """Inference: the input as it is (its mask output, if read, is refused)."""
    importer.attributes(node, {"ratio": 0.5, "is_test": 1, "seed": None})
    if importer.opset >= 12 and importer.value(node, 2) is not None and bool(importer.constant(node, 2, "mode")):
        raise importer.refuse(node, "runs in training mode (input training_mode), not inference")
    return importer.value(node, 0)


def same_layout(importer, node, values):
    """Computed ``values`` of one rank, in one layout (NHWC where they are images)."""
    ranks = {len(v.tensor.shape) for v in values}
    if len(ranks) != 1:
        raise importer.refuse(node, f"broadcasts values of ranks {sorted(ranks)}; minifer's merges take one rank")
    if ranks == {4}:
        return [importer.nhwc(node, v) for v in values]
    return [importer.same(v, node) for v in values]


ARITHMETIC = {"Add": (numpy.add, L.Add), "Sub": (numpy.subtract, L.Subtract), "Mul": (numpy.multiply, L.Multiply),
              "Div": (numpy.divide, None), "Sum": (None, L.Add)}


def arithmetic(importer, node):
    importer.attributes(node, {})
    compute, merge = ARITHMETIC[node.op_type]
    if known(importer, node) is not None:
        return fold(importer, node, compute or (lambda *arrays: sum(arrays[1:], arrays[0])))
    values = [importer.value(node, i) for i in range(len(node.inputs))]
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, Sym) for v in values):
        if merge is None:
            raise importer.refuse(node, "divides by a value computed from the model's input; minifer has no "
                                        "division layer")
        values = same_layout(importer, node, values)
        return Sym(importer.call(node, merge, values), values[0].layout)
    if len(values) != 2:
        raise importer.refuse(node, "sums computed values with constants")
    return with_constant(importer, node, values)


def with_constant(importer, node, values):
    """x op c or c op x as x * scale + offset: a Rescaling for a scalar c, else a Scale layer."""
    first = isinstance(values[0], Sym)
    x, c = (values[0], values[1]) if first else (values[1], values[0])
    c = numpy.asarray(c, dtype=numpy.float64)
    scale, offset = {"Add": (numpy.ones_like(c), c), "Sum": (numpy.ones_like(c), c), "Mul": (c, numpy.zeros_like(c)),
                     "Sub": (numpy.ones_like(c), -c) if first else (-numpy.ones_like(c), c),
                     "Div": (1 / c, numpy.zeros_like(c)) if first else (None, None)}[node.op_type]
    if scale is None:
        raise importer.refuse(node, "divides a constant by a value computed from the model's input")
    if c.size == 1:
        return Sym(importer.call(node, L.Rescaling, x, scale=float(scale.reshape(-1)[0]),
                                 offset=float(offset.reshape(-1)[0])), x.layout)
    scale, offset = (importer.per_example(node, a, x) for a in (numpy.broadcast_to(scale, c.shape),
                                                                numpy.broadcast_to(offset, c.shape)))
    return Sym(importer.call(node, L.Scale, x, weights=[scale, offset], shape=list(scale.shape)), x.layout)


OPERATORS = {
    "Relu": layer(lambda a: (L.ReLU, {})),
    "LeakyRelu": layer(lambda a: (L.LeakyReLU, {"negative_slope": a["alpha"]}), alpha=0.01),
    "Elu": layer(lambda a: (L.ELU, {"alpha": a["alpha"]}), alpha=1.0),
    "Sigmoid": activation("sigmoid"), "Tanh": activation("tanh"), "Softplus": activation("softplus"),
    "HardSwish": activation("hard_swish"), "Selu": selu, "HardSigmoid": hard_sigmoid, "Gelu": gelu, "Clip": clip,
    "PRelu": prelu, "Softmax": softmax("softmax", L.Softmax), "LogSoftmax": softmax("log_softmax"),
    "Dropout": dropout, **{op: arithmetic for op in ARITHMETIC},
}
