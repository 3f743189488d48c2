"""ONNX files as minifer models: ``load_onnx(path)`` (``minifer.load("m.onnx")``).

The file is read by ``onnx_read.read_onnx`` (checked, no protobuf left), then its nodes are
mapped in order onto minifer layers called on symbolic tensors (``onnx_context.Importer``), each
by its operator's handler: shape arithmetic folded at load time (``onnx_ops_shape.py``),
elementwise operators and activations (``onnx_ops_elementwise.py``), convolutions, pools,
normalisation, resizing and padding (``onnx_ops_image.py``), Gemm and MatMul (``onnx_ops_dense.py``).
"""
from .onnx_context import Importer
from .onnx_ops_dense import OPERATORS as DENSE
from .onnx_ops_elementwise import OPERATORS as ELEMENTWISE
from .onnx_ops_image import OPERATORS as IMAGE
from .onnx_ops_shape import OPERATORS as SHAPE
from .onnx_read import read_onnx

OPERATORS = {**SHAPE, **ELEMENTWISE, **IMAGE, **DENSE}


def load_onnx(path):
    """The model in the ONNX file at ``path``, as a minifer Model."""
    return Importer(read_onnx(path), OPERATORS).model()
