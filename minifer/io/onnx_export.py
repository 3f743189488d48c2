"""minifer models as ONNX files: ``save_onnx(model, "m.onnx")`` (``minifer.save`` and ``model.save``).

Each layer writes its own nodes (``Layer.onnx_nodes(builder, inputs)``), so adding a layer stays
one file; this module gives them an ``OnnxBuilder``, which takes plain NumPy arrays and Python
values and never lets the onnx package reach the layers. Layout: minifer computes in NHWC and
ONNX's image operators in NCHW, so every 4-D value is held NCHW inside the file, with one
Transpose after each 4-D input and one before each 4-D output; a layer that reorders axes
(Flatten, Reshape, Permute) says what it means in minifer's order and the builder translates.
The batch axis is dynamic ("N"). BatchNormalizations are folded into the layer before them
unless ``fold_batchnorm=False``; Dropout writes nothing. An input that declares a ``pixel_range``
gets its scaling written after it (Mul, Add), so the file takes pixels 0-255 as floats, as
Keras's Rescaling does. ``onnx.checker`` passes on every file before it is written (atomically).
"""
import numpy

from ..functional.geometry import pad_amounts
from .atomic import atomic_write
from .onnx_read import onnx_module

OPSET = 17  # the operator set files are written for (ONNX 1.12, 2022): read by onnxruntime, TensorRT, OpenVINO
IR_VERSION = 8  # the file format version that goes with opset 17
TO_ONNX = (0, 3, 1, 2)  # a 4-D value's NHWC axes in ONNX's NCHW order
TO_MINIFER = (0, 2, 3, 1)


class OnnxBuilder:
    """What a layer writes its ONNX nodes with. Values are names; ``rank(name)`` is the value's rank,
    and a 4-D value is NCHW. ``node`` adds an operator and returns its output name (or names)."""

    def __init__(self, dtype, opset=OPSET):
        self.onnx = onnx_module()
        self.dtype, self.opset = numpy.dtype(dtype), opset  # a layer may use an operator its opset has
        self.nodes, self.initializers, self.ranks = [], [], {}
        self.shapes = {}  # minifer's (NHWC) shape of every value a layer is called on
        self._weights = {}  # id of a weight array source -> initializer name (shared layers write weights once)
        self._names = set()
        self.layer = None  # the layer writing now: its name prefixes what it writes

    def fresh(self, hint):
        base = f"{self.layer.name}/{hint}" if self.layer is not None else hint
        name, i = base, 1
        while name in self._names:
            name, i = f"{base}_{i}", i + 1
        self._names.add(name)
        return name

    def rank(self, value):
        return self.ranks[value]

    def shape(self, value):
        """minifer's shape of ``value``, a layer's input (batch None)."""
        return self.shapes[value]

    def window_padding(self, padding, input_shape, window, strides):
        """A Conv's or pool's padding attributes for minifer's ``padding`` on an input of ``input_shape``:
        Keras's "same" as explicit pads where the size is known (else ONNX's SAME_UPPER, the same rule)."""
        if padding == "same" and None in input_shape[1:3]:
            return {"auto_pad": "SAME_UPPER"}
        (top, bottom), (left, right) = pad_amounts(input_shape[1:3], window, strides, padding)
        return {"pads": [top, left, bottom, right]}

    def node(self, op_type, inputs, rank=None, outputs=1, **attributes):
        """Add ``op_type`` on ``inputs`` (names; '' for an omitted one); its outputs have ``rank``
        (default: the first input's)."""
        names = [self.fresh(op_type) for _ in range(outputs)]
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, name=names[0], **attributes))
        for name in names:
            self.ranks[name] = self.ranks[inputs[0]] if rank is None else rank
        return names[0] if outputs == 1 else names

    def constant(self, array, hint="constant", dtype=None):
        """An initializer holding ``array`` (floats in the model's dtype unless ``dtype``)."""
        array = numpy.asarray(array)
        dtype = dtype or (self.dtype if array.dtype.kind == "f" else array.dtype)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(numpy.array(array, dtype, order="C"), name))
        self.ranks[name] = array.ndim
        return name

    def weight(self, source, array, hint):
        """``array`` (made from the weight ``source``) as an initializer, written once however many
        calls of a shared layer use it."""
        key = (id(source), hint)
        if key not in self._weights:
            self._weights[key] = self.constant(array, hint)
        return self._weights[key]

    def ints(self, values, hint="shape"):
        return self.constant(numpy.asarray(values, numpy.int64), hint)

    # -- layout ------------------------------------------------------------------------
    def axis(self, value, axis):
        """ONNX's number for minifer's ``axis`` of ``value`` (NHWC's channels are axis 1 in the file)."""
        rank = self.rank(value)
        axis %= rank
        return TO_MINIFER[axis] if rank == 4 else axis

    def to_minifer_order(self, value):
        """``value`` with its axes in minifer's order (a Transpose for a 4-D value)."""
        return self.node("Transpose", [value], perm=list(TO_MINIFER)) if self.rank(value) == 4 else value

    def from_minifer_order(self, value):
        """A value in minifer's order as the file holds it (NCHW for 4-D)."""
        return self.node("Transpose", [value], perm=list(TO_ONNX)) if self.rank(value) == 4 else value

    def per_channel(self, array, rank):
        """A per-example array (minifer's order, right-aligned against a value of ``rank``) shaped to
        broadcast against that value as the file holds it."""
        array = numpy.asarray(array)
        array = array.reshape((1,) * (rank - 1 - array.ndim) + array.shape)
        return array.transpose(2, 0, 1) if rank == 4 else array


def save_onnx(model, path, fold_batchnorm=True, opset=OPSET):
    """Write ``model`` to ``path`` as ONNX; returns ``path``. ``fold_batchnorm``: fold each
    BatchNormalization into the layer before it where it can (as ``predict`` does). ``opset``: 17,
    or later for the operators later opsets added (GELU from 20, Pad's "wrap" from 19)."""
    onnx = onnx_module()
    if opset < OPSET:
        raise ValueError(f"minifer writes ONNX opset {OPSET} or later, not {opset}")
    if fold_batchnorm:
        model = model.fold_batchnorm()
    dtype = model.inputs[0].dtype
    builder = OnnxBuilder(dtype if dtype.kind == "f" else numpy.float32, opset)
    values, graph_inputs = {}, []
    for t in model.inputs:
        name = t.layer.name
        builder.ranks[name] = len(t.shape)
        graph_inputs.append(_value_info(onnx, name, t))
        builder.layer = None
        values[t] = builder.from_minifer_order(name)
        if t.layer.pixel_range is not None:
            low, high = t.layer.pixel_range
            values[t] = builder.node("Add", [builder.node("Mul", [values[t], builder.constant((high - low) / 255)]),
                                             builder.constant(low)])
    for node in model._nodes:
        if node.inputs is None:
            continue  # an InputLayer
        if not node.layer.defines_with_call("onnx_nodes"):
            raise ValueError(f"{type(node.layer).__name__} layer '{node.layer.name}' changes the call of the class "
                             "it extends, so it cannot be written as that class")
        builder.layer = node.layer
        args = [values[t] for t in node.inbound]
        builder.shapes.update((values[t], t.shape) for t in node.inbound)
        made = node.layer.onnx_nodes(builder, args if isinstance(node.inputs, list) else args[0])
        for t, name in zip(node.outputs, made if isinstance(made, list) else [made]):
            values[t] = name
    graph_outputs = []
    for t in model.outputs:
        builder.layer = None
        name = builder.fresh(t.layer.name)  # the layer's own name where it is free
        builder.nodes.append(onnx.helper.make_node("Identity", [builder.to_minifer_order(values[t])], [name],
                                                   name=f"{name}/output"))
        graph_outputs.append(_value_info(onnx, name, t))
    graph = onnx.helper.make_graph(builder.nodes, model.name, graph_inputs, graph_outputs, builder.initializers)
    proto = onnx.helper.make_model(graph, producer_name="minifer", opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto, full_check=True)
    with atomic_write(path) as f:
        f.write(proto.SerializeToString())
    return path


def _value_info(onnx, name, tensor):
    element = onnx.helper.np_dtype_to_tensor_dtype(tensor.dtype)
    return onnx.helper.make_tensor_value_info(name, element, ["N", *tensor.shape[1:]])
