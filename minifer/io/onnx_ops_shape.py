"""ONNX operators that move data about: folded to NumPy at load time when their inputs are known
(Constant, Shape and the arithmetic exporters build Reshape targets from), else mapped onto
minifer's Reshape, Flatten, Permute and Concatenate layers.

Folded shapes hold the batch size as ``BATCH``: it may travel through Gather, Slice, Concat and
Unsqueeze into a Reshape, and anything that computes with it is refused (its value is known
only when the model runs).
"""
import numpy

from .. import layers as L
from .onnx_context import BATCH, MAX_FOLDED, Dim, Sym
from .onnx_read import DTYPES


def known(importer, node):
    """The node's inputs as arrays if every one is known at load time (omitted ones None), else None."""
    values = [importer.value(node, i) for i in range(len(node.inputs))]
    return None if any(isinstance(v, Sym) for v in values) else values


def fold(importer, node, compute):
    """``compute(*arrays)`` for a node whose inputs are all known; refused if it meets the batch size."""
    values = known(importer, node)
    if values is None:
        raise importer.refuse(node, "computes on a value computed from the model's input, which minifer maps "
                                    "onto no layer here; it folds only values known when the file is read")
    try:
        result = compute(*values)
    except TypeError:
        raise importer.refuse(node, "computes with the batch size, which is known only when the model runs") \
            from None
    return numpy.asarray(result)


def ints(importer, node, value, what):
    """A known integer list (an attribute, or a constant input) as Python ints."""
    array = numpy.asarray(value)
    if array.dtype.kind not in "iu" and array.dtype != object:
        raise importer.refuse(node, f"has {what} {value!r}, not whole numbers")
    return [v if isinstance(v, Dim) else int(v) for v in array.reshape(-1)]


def constant(importer, node):
    if len(node.attributes) != 1:
        raise importer.refuse(node, f"has attributes {sorted(node.attributes)}; a Constant has one value")
    (name, value), = node.attributes.items()
    if name == "value":
        return numpy.asarray(value)
    if name in ("value_float", "value_int", "value_floats", "value_ints"):
        return numpy.asarray(value, numpy.float32 if name.startswith("value_float") else numpy.int64)
    raise importer.refuse(node, "is not a value minifer reads", name)


def constant_of_shape(importer, node):
    value = importer.attributes(node, {"value": numpy.zeros(1, numpy.float32)})["value"]
    shape = ints(importer, node, importer.constant(node, 0, "shape"), "shape")
    if any(isinstance(d, Dim) for d in shape) or numpy.prod(shape, dtype=numpy.float64) > MAX_FOLDED:
        raise importer.refuse(node, f"would make a constant of shape {shape}")
    return numpy.full(shape, numpy.asarray(value).reshape(-1)[0])


def shape(importer, node):
    a = importer.attributes(node, {"start": 0, "end": None})
    value = importer.value(node, 0)
    dims = list(importer.onnx_shape(value)) if isinstance(value, Sym) else list(value.shape)
    dims = [Dim() if d is None else d for d in dims]  # a size the file leaves open
    picked = dims[a["start"]:a["end"]]
    return numpy.asarray(picked, dtype=object if any(isinstance(d, Dim) for d in picked) else numpy.int64)


def size(importer, node):
    return fold(importer, node, lambda x: numpy.int64(x.size))


def gather(importer, node):
    axis = importer.attributes(node, {"axis": 0})["axis"]
    return fold(importer, node, lambda x, i: numpy.take(x, numpy.where(i < 0, i + x.shape[axis], i), axis=axis))


def axes_of(importer, node, attribute_opset=13):
    """Squeeze's and Unsqueeze's axes: an attribute before opset 13, an input from then on."""
    if importer.opset < attribute_opset:
        return importer.attributes(node, {"axes": None})["axes"]
    importer.attributes(node, {})
    axes = importer.constant(node, 1, "axes")
    return None if axes is None else ints(importer, node, axes, "axes")


def unsqueeze(importer, node):
    axes = axes_of(importer, node)
    value = importer.value(node, 0)
    if not isinstance(value, Sym):
        out = value
        for axis in sorted(a % (value.ndim + len(axes)) for a in axes):
            out = numpy.expand_dims(out, axis)
        return out
    rank = len(value.tensor.shape) + len(axes)
    dims = list(importer.onnx_shape(value))
    for axis in sorted(a % rank for a in axes):
        dims.insert(axis, 1)
    return reshaped(importer, node, value, dims)


def squeeze(importer, node):
    axes = axes_of(importer, node)
    value = importer.value(node, 0)
    if not isinstance(value, Sym):
        return numpy.squeeze(value, axis=None if axes is None else tuple(axes))
    dims = list(importer.onnx_shape(value))
    drop = {a % len(dims) for a in axes} if axes is not None else {i for i, d in enumerate(dims) if d == 1}
    return reshaped(importer, node, value, [d for i, d in enumerate(dims) if i not in drop])


def reshaped(importer, node, sym, dims):
    """``sym`` (ONNX order) reshaped to ONNX's ``dims``, whose first must be the batch."""
    if not dims or dims[0] is not BATCH:
        raise importer.refuse(node, f"reshapes across the batch axis (to {dims})")
    if any(isinstance(d, Dim) or d is None for d in dims[1:]):
        raise importer.refuse(node, f"reshapes to {dims}, with a size known only when the model runs")
    source = importer.onnx_shape(sym)[1:]
    if -1 not in dims and None not in source and numpy.prod(dims[1:]) != numpy.prod(source):
        raise importer.refuse(node, f"reshapes {(BATCH, *source)} to {dims}, across the batch axis")
    if not (sym.layout == "nhwc" and sym.tensor.shape[1:3] == (1, 1)):  # else NHWC's element order is NCHW's
        sym = importer.same(sym, node)
    return Sym(importer.call(node, L.Reshape, sym, target_shape=[int(d) for d in dims[1:]]), "same")


def reshape(importer, node):
    allowzero = importer.attributes(node, {"allowzero": 0})["allowzero"]
    value, target = importer.value(node, 0), importer.constant(node, 1, "shape")
    target = ints(importer, node, target, "shape")
    if not isinstance(value, Sym):
        return numpy.reshape(value, target)
    source = list(importer.onnx_shape(value))
    if allowzero and 0 in target:
        raise importer.refuse(node, "asks for a size 0 (allowzero)", "allowzero")
    dims = [source[i] if isinstance(d, int) and d == 0 and not allowzero else d for i, d in enumerate(target)]
    if dims and not isinstance(dims[0], Dim) and dims[0] in (importer.static_batch, -1) and -1 not in dims[1:]:
        dims[0] = BATCH  # the batch size the file was exported with, or -1 with every other size given
    return reshaped(importer, node, value, dims)  # a -1 left is minifer's Reshape's to work out


def flatten(importer, node):
    axis = importer.attributes(node, {"axis": 1})["axis"]
    value = importer.value(node, 0)
    if not isinstance(value, Sym):
        axis %= max(value.ndim, 1)
        return value.reshape(int(numpy.prod(value.shape[:axis])), -1)
    dims = importer.onnx_shape(value)
    axis %= len(dims)
    if axis == 0 or any(d != 1 for d in dims[1:axis]):
        raise importer.refuse(node, f"is {axis}: it would fold the batch axis into another", "axis")
    return reshaped(importer, node, value, [BATCH, int(numpy.prod(dims[axis:]))])


def transpose(importer, node):
    perm = importer.attributes(node, {"perm": None})["perm"]
    value = importer.value(node, 0)
    if not isinstance(value, Sym):
        return numpy.transpose(value, perm)
    rank = len(value.tensor.shape)
    perm = list(range(rank))[::-1] if perm is None else [p % rank for p in perm]
    if perm[0] != 0:
        raise importer.refuse(node, f"is {perm}: it moves the batch axis", "perm")
    if value.layout == "nhwc":  # ONNX axis perm[i] of the input is minifer's axis (0, 3, 1, 2)[perm[i]]
        perm = [(0, 3, 1, 2)[p] for p in perm]
    if perm == list(range(rank)):
        return Sym(value.tensor, "same")
    if rank == 4 and [perm[p] for p in (0, 2, 3, 1)] == [0, 1, 2, 3]:  # the result held NHWC is the tensor itself
        return Sym(value.tensor, "nhwc")
    return Sym(importer.call(node, L.Permute, value, dims=perm[1:]), "same")


def concat(importer, node):
    axis = importer.attributes(node, {"axis": None})["axis"]
    values = [importer.value(node, i) for i in range(len(node.inputs))]
    if not any(isinstance(v, Sym) for v in values):
        if any(v.dtype == object for v in values):
            return numpy.concatenate([v.astype(object) for v in values], axis=axis)
        return numpy.concatenate(values, axis=axis)
    if not all(isinstance(v, Sym) for v in values):
        raise importer.refuse(node, "joins a constant to values computed from the model's input")
    if len(values) == 1:
        return values[0]
    images = all(len(v.tensor.shape) == 4 for v in values)
    values = [importer.nhwc(node, v) if images else importer.same(v, node) for v in values]
    return Sym(importer.call(node, L.Concatenate, values, axis=importer.axis(node, values[0], axis)), values[0].layout)


def slice_(importer, node):
    if importer.opset < 10:
        a = importer.attributes(node, {"starts": None, "ends": None, "axes": None})
        args = [a["starts"], a["ends"], a["axes"], None]
    else:
        importer.attributes(node, {})
        args = [importer.constant(node, i, what) for i, what in ((1, "starts"), (2, "ends"), (3, "axes"),
                                                                  (4, "steps"))]
    value = importer.value(node, 0)
    if isinstance(value, Sym):
        raise importer.refuse(node, "slices a value computed from the model's input; minifer slices shapes only")
    starts, ends = ints(importer, node, args[0], "starts"), ints(importer, node, args[1], "ends")
    axes = range(len(starts)) if args[2] is None else ints(importer, node, args[2], "axes")
    steps = [1] * len(starts) if args[3] is None else ints(importer, node, args[3], "steps")
    index = [slice(None)] * value.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[axis] = slice(start, end, step)
    return value[tuple(index)]


def cast(importer, node):
    to = importer.attributes(node, {"to": None, "saturate": 1})["to"]
    if to not in DTYPES:
        raise importer.refuse(node, f"casts to element type {to}, which minifer does not read", "to")
    dtype = numpy.dtype(DTYPES[to][0])
    value = importer.value(node, 0)
    if isinstance(value, Sym):
        if value.tensor.dtype != dtype:
            raise importer.refuse(node, f"casts a {value.tensor.dtype} value to {dtype}; minifer models keep one dtype",
                                  "to")
        return value
    if value.dtype == object:  # a shape holding the batch: its whole numbers stay whole numbers
        if dtype.kind not in "iu":
            raise importer.refuse(node, "casts a shape holding the batch size to a non-integer type", "to")
        return value
    return value.astype(dtype)


def identity(importer, node):
    importer.attributes(node, {})
    return importer.value(node, 0)


def range_(importer, node):
    start, limit, delta = (importer.constant(node, i, w) for i, w in ((0, "start"), (1, "limit"), (2, "delta")))
    if delta == 0 or abs((limit - start) / delta) > MAX_FOLDED:
        raise importer.refuse(node, f"would count from {start} to {limit} in steps of {delta}")
    return fold(importer, node, lambda s, l, d: numpy.arange(s, l, d, dtype=numpy.asarray(s).dtype))


OPERATORS = {"Constant": constant, "ConstantOfShape": constant_of_shape, "Shape": shape, "Size": size,
             "Gather": gather, "Unsqueeze": unsqueeze, "Squeeze": squeeze, "Reshape": reshape, "Flatten": flatten,
             "Transpose": transpose, "Concat": concat, "Slice": slice_, "Cast": cast, "Identity": identity,
             "Range": range_}
