"""ONNX's Gemm and MatMul as minifer's Dense: a computed value times known weights (plus a known
bias: Gemm's C, or the Add right after a MatMul, folded into the Dense)."""
import numpy

from .. import layers as L
from .onnx_context import Sym


def dense(importer, node, x, kernel, bias):
    """A Dense of ``kernel`` (in, units) on ``x``'s last ONNX axis (in ONNX's order)."""
    x = importer.same(x, node)
    weights = [kernel] + ([] if bias is None else [bias])
    return Sym(importer.call(node, L.Dense, x, weights, units=kernel.shape[1], use_bias=bias is not None,
                             kernel_initializer="zeros"), "same")


def as_bias(importer, node, c, units, what):
    """``c`` broadcast against (rows, units) as one vector per unit; refused where it varies by row."""
    c = numpy.asarray(c)
    if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1) or c.shape[-1:] not in ((), (1,), (units,)):
        raise importer.refuse(node, f"adds a {what} of shape {c.shape}, which differs from example to example")
    return numpy.broadcast_to(c.reshape(-1), (units,))


def gemm(importer, node):
    """alpha * A @ B + beta * C, A computed (not transposed), B and C known."""
    a = importer.attributes(node, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0, "broadcast": None})
    x = importer.sym(node)
    if a["transA"] or len(x.tensor.shape) != 2:
        raise importer.refuse(node, "transposes its computed input (or it is not a matrix)", "transA")
    b = importer.constant(node, 1, "B")
    kernel = (b.T if a["transB"] else b) * a["alpha"]
    c = importer.constant(node, 2, "C")
    bias = None if c is None else as_bias(importer, node, c, kernel.shape[1], "C") * a["beta"]
    return dense(importer, node, x, kernel, bias)


def matmul(importer, node):
    """x @ W; an Add of a known bias right after it (its only reader) goes into the Dense."""
    importer.attributes(node, {})
    x, w = importer.sym(node), importer.constant(node, 1, "weights")
    if w.ndim != 2 or len(x.tensor.shape) < 2:
        raise importer.refuse(node, f"multiplies by weights of shape {w.shape}; minifer's Dense takes a matrix")
    bias, readers = None, importer.consumers.get(node.outputs[0], [])
    if len(readers) == 1 and readers[0].op_type == "Add" and node.outputs[0] not in importer.output_names:
        add = readers[0]
        other = [importer.values.get(name) for name in add.inputs if name != node.outputs[0]]
        if len(other) == 1 and isinstance(other[0], numpy.ndarray):
            try:
                bias = as_bias(importer, add, other[0], w.shape[1], "bias")
            except ValueError:
                bias = None
            else:
                importer.skip.add(id(add))
                importer.aliases[add.outputs[0]] = node.outputs[0]
    return dense(importer, node, x, w, bias)


OPERATORS = {"Gemm": gemm, "MatMul": matmul}
