"""ONNX files read safely: ``read_onnx(path)`` gives a checked graph of plain Python and NumPy values.

An ONNX file is a protobuf message; a hostile one can declare tensors far larger than its bytes,
point its external data at any file on the disk, nest subgraphs or close a cycle. Here every
tensor's declared size is checked against the bytes present before an array is made; external
data is read only from regular files inside the model's own folder, each from the byte range it
declares; subgraphs (If, Loop, Scan) and sparse tensors are refused; nodes are put in an order
where each runs after what it reads (an iterative topological sort, so no depth can exhaust the
stack), and a cycle or a value nobody makes is refused. Every error names the file.

The result (``OnnxGraph``) holds no protobuf object: the importer (``onnx_import.py``) and anyone
taking weights from an ONNX file (the face detector of issue 22) work on it alone.
"""
import collections
import math
import os

import numpy

from .extras import optional_module
from .npz import FileFormatError

MAX_FILE_BYTES = 2 ** 31 - 1  # protobuf's own limit on one message
# ONNX TensorProto.DataType -> (NumPy dtype, the typed field holding it when not raw)
DTYPES = {1: (numpy.float32, "float_data"), 2: (numpy.uint8, "int32_data"), 3: (numpy.int8, "int32_data"),
          4: (numpy.uint16, "int32_data"), 5: (numpy.int16, "int32_data"), 6: (numpy.int32, "int32_data"),
          7: (numpy.int64, "int64_data"), 9: (numpy.bool_, "int32_data"), 10: (numpy.float16, "int32_data"),
          11: (numpy.float64, "double_data"), 12: (numpy.uint32, "uint64_data"), 13: (numpy.uint64, "uint64_data")}
FIELDS = {"float_data": numpy.float32, "int32_data": numpy.int32, "int64_data": numpy.int64,
          "double_data": numpy.float64, "uint64_data": numpy.uint64}

OnnxGraph = collections.namedtuple("OnnxGraph", "path opsets inputs outputs initializers nodes")
OnnxGraph.__doc__ = """``opsets``: {domain: version} ("" is ONNX's own); ``inputs``/``outputs``: ValueInfo lists
(graph inputs that are initializers left out); ``initializers``: {name: array}; ``nodes``: OnnxNode
list, each after the nodes whose outputs it reads."""
ValueInfo = collections.namedtuple("ValueInfo", "name dtype shape")
ValueInfo.__doc__ = "``dtype``: NumPy's (None if not a tensor of numbers); ``shape``: a tuple, None for unknown sizes."
OnnxNode = collections.namedtuple("OnnxNode", "name op_type domain inputs outputs attributes")
OnnxNode.__doc__ = "``inputs`` may hold '' for an omitted optional input; ``attributes`` {name: Python or NumPy value}."


class OnnxFormatError(FileFormatError):
    """An ONNX file minifer cannot or will not read; the message names the file and what is wrong."""


def onnx_module():
    """The ``onnx`` package (protobuf schema and checker), an optional extra imported on first use."""
    return optional_module("onnx", "ONNX files", "onnx")


def read_onnx(path):
    """The checked graph of the ONNX file at ``path`` (``OnnxGraph``); an ``OnnxFormatError`` naming
    the file for anything damaged, hostile or outside what this reader takes."""
    reader = _Reader(path)
    return reader.graph()


class _Reader:
    def __init__(self, path):
        self.path = os.fspath(path)
        self.folder = os.path.realpath(os.path.dirname(os.path.abspath(self.path)))
        self.onnx = onnx_module()

    def error(self, message):
        return OnnxFormatError(f"{self.path!r}: {message}")

    def graph(self):
        model = self._model()
        graph = model.graph
        opsets = {op.domain or "": op.version for op in model.opset_import}
        if graph.sparse_initializer:
            raise self.error("it holds sparse initializers, which minifer does not read")
        initializers = {}
        for tensor in graph.initializer:
            initializers[tensor.name] = self.array(tensor, f"initializer {tensor.name!r}")
        inputs = [self.value_info(v) for v in graph.input if v.name not in initializers]
        outputs = [self.value_info(v) for v in graph.output]
        nodes = [self.node(n, i) for i, n in enumerate(graph.node)]
        return OnnxGraph(self.path, opsets, inputs, outputs, initializers,
                         self.ordered(nodes, inputs, initializers, outputs))

    def _model(self):
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"no ONNX file {self.path!r}")
        size = os.path.getsize(self.path)
        if size > MAX_FILE_BYTES:
            raise self.error(f"it is {size} bytes, more than one protobuf message holds ({MAX_FILE_BYTES})")
        with open(self.path, "rb") as f:
            data = f.read()
        model = self.onnx.ModelProto()
        try:
            model.ParseFromString(data)
        except Exception as e:  # protobuf's DecodeError, or its nesting limit
            raise self.error(f"not an ONNX model (protobuf could not parse it: {e})") from None
        if not model.HasField("graph"):
            raise self.error("not an ONNX model (it has no graph)")
        return model

    # -- tensors ------------------------------------------------------------------
    def array(self, tensor, what):
        """The tensor's values as a NumPy array, made only after its size is checked against its bytes."""
        if tensor.data_type not in DTYPES:
            name = self.onnx.TensorProto.DataType.Name(tensor.data_type) \
                if tensor.data_type in self.onnx.TensorProto.DataType.values() else tensor.data_type
            raise self.error(f"{what} has element type {name}, which minifer does not read")
        dtype, field = DTYPES[tensor.data_type]
        dims = tuple(tensor.dims)
        if any(d < 0 for d in dims):
            raise self.error(f"{what} has a negative size in its shape {dims}")
        count = math.prod(dims)
        expected = count * numpy.dtype(dtype).itemsize
        if tensor.data_location == self.onnx.TensorProto.EXTERNAL:
            raw = self.external(tensor, what, expected)
        elif tensor.HasField("raw_data") or not len(getattr(tensor, field)):
            raw = tensor.raw_data
        else:
            values = getattr(tensor, field)
            if len(values) != count:
                raise self.error(f"{what} declares shape {dims} ({count} values) but holds {len(values)}")
            stored = numpy.asarray(values, dtype=FIELDS[field])
            if dtype == numpy.float16:  # half floats travel as their 16-bit patterns
                return stored.astype(numpy.uint16).view(numpy.float16).reshape(dims)
            return stored.astype(dtype).reshape(dims)
        if len(raw) != expected:
            raise self.error(f"{what} declares shape {dims} of {numpy.dtype(dtype).name} ({expected} bytes) but "
                             f"holds {len(raw)} bytes")
        return numpy.frombuffer(raw, dtype=numpy.dtype(dtype).newbyteorder("<")).astype(dtype).reshape(dims)

    def external(self, tensor, what, expected):
        """The bytes of an external-data tensor, from a regular file inside the model's folder."""
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        target = os.path.realpath(os.path.join(self.folder, location))
        if not location or os.path.isabs(location) or os.path.commonpath([target, self.folder]) != self.folder:
            raise self.error(f"{what} keeps its data in {location!r}, outside the model's folder; minifer reads "
                             "external data only from files beside the model")
        if not os.path.isfile(target):
            raise self.error(f"{what} keeps its data in {location!r}, which is not a file in the model's folder")
        try:
            offset, length = int(entries.get("offset", 0)), int(entries.get("length", expected))
        except ValueError:
            raise self.error(f"{what} has an external offset or length that is not a number") from None
        if offset < 0 or length != expected or offset + length > os.path.getsize(target):
            raise self.error(f"{what} needs {expected} bytes of {location!r} at offset {offset}; the file has "
                             f"{os.path.getsize(target)} bytes and the tensor declares length {length}")
        with open(target, "rb") as f:
            f.seek(offset)
            return f.read(length)

    # -- values, nodes, order -----------------------------------------------------
    def value_info(self, value):
        kind = value.type.WhichOneof("value")
        if kind != "tensor_type":
            return ValueInfo(value.name, None, None)
        tensor = value.type.tensor_type
        dtype = numpy.dtype(DTYPES[tensor.elem_type][0]) if tensor.elem_type in DTYPES else None
        shape = None
        if tensor.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
        return ValueInfo(value.name, dtype, shape)

    def node(self, proto, index):
        name = proto.name or f"#{index} ({proto.op_type})"
        attributes = {}
        kinds = self.onnx.AttributeProto
        for attribute in proto.attribute:
            where = f"node {name!r} ({proto.op_type}) attribute {attribute.name!r}"
            if attribute.type in (kinds.GRAPH, kinds.GRAPHS):
                raise self.error(f"{where} holds a subgraph (control flow); minifer reads flat graphs only")
            if attribute.type in (kinds.SPARSE_TENSOR, kinds.SPARSE_TENSORS, kinds.TYPE_PROTO, kinds.TYPE_PROTOS):
                raise self.error(f"{where} is of a kind minifer does not read")
            attributes[attribute.name] = self.attribute(attribute, where)
        return OnnxNode(name, proto.op_type, proto.domain or "", list(proto.input), list(proto.output), attributes)

    def attribute(self, attribute, where):
        kinds = self.onnx.AttributeProto
        plain = {kinds.FLOAT: lambda a: a.f, kinds.INT: lambda a: a.i,
                 kinds.STRING: lambda a: a.s.decode("utf-8", "replace"),
                 kinds.FLOATS: lambda a: list(a.floats), kinds.INTS: lambda a: list(a.ints),
                 kinds.STRINGS: lambda a: [s.decode("utf-8", "replace") for s in a.strings]}
        if attribute.type in plain:
            return plain[attribute.type](attribute)
        if attribute.type == kinds.TENSOR:
            return self.array(attribute.t, where)
        if attribute.type == kinds.TENSORS:
            return [self.array(t, where) for t in attribute.tensors]
        raise self.error(f"{where} has no value (attribute type {attribute.type})")

    def ordered(self, nodes, inputs, initializers, outputs):
        """``nodes`` so that each follows the nodes it reads from (Kahn's algorithm, no recursion)."""
        known = set(initializers) | {v.name for v in inputs}
        made_by = {}  # value name -> index of the node making it
        for i, node in enumerate(nodes):
            for name in node.outputs:
                if name and (name in made_by or name in known):
                    raise self.error(f"node {node.name!r} ({node.op_type}) makes {name!r}, which is made elsewhere too")
                made_by[name] = i
        waiting = []  # per node: how many of the nodes it reads from have not run yet
        readers = collections.defaultdict(list)
        for i, node in enumerate(nodes):
            producers = set()
            for name in node.inputs:
                if not name or name in known:
                    continue
                if name not in made_by:
                    raise self.error(f"node {node.name!r} ({node.op_type}) reads {name!r}, which nothing makes")
                producers.add(made_by[name])
            waiting.append(len(producers))
            for producer in producers:
                readers[producer].append(i)
        ready = collections.deque(i for i, count in enumerate(waiting) if count == 0)
        order = []
        while ready:
            i = ready.popleft()
            order.append(nodes[i])
            for reader in readers[i]:
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    ready.append(reader)
        if len(order) != len(nodes):
            stuck = nodes[next(i for i, count in enumerate(waiting) if count)]
            raise self.error(f"its graph has a cycle (node {stuck.name!r} ({stuck.op_type}) waits on its own output)")
        for value in outputs:
            if value.name not in made_by and value.name not in known:
                raise self.error(f"graph output {value.name!r} is made by no node")
        return order
