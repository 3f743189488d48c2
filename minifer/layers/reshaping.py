"""Padding2D (ONNX's padding modes) and ZeroPadding2D, UpSampling2D, CropLike, Reshape, Permute, Concatenate,
Rescaling and SpatialDropout2D, with Keras's arguments where Keras has the layer."""
import numbers

import numpy

from .. import functional as F
from ..autograd import ops
from ..functional.geometry import as_pair, explicit_pads, whole_size
from ..functional.resize import INTERPOLATIONS
from ..functional.shape import PAD_MODES
from .arguments import real
from .base import Layer, _fmt
from .core import Dropout



class Padding2D(Layer):
    """``padding`` (an int, (rows, cols), or ((top, bottom), (left, right))) filled with ``value``
    ("constant"), the mirror image ("reflect"), the edge pixel ("edge") or the opposite side
    ("wrap"): NumPy's and ONNX's modes, which Keras lacks (its ZeroPadding2D, below, pads zeros)."""
    input_ndim = 4

    def __init__(self, padding=1, mode="constant", value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.padding = explicit_pads(padding, f"{type(self).__name__} padding")
        if mode not in PAD_MODES:
            raise ValueError(f"Padding2D mode must be one of {PAD_MODES}, got {mode!r}")
        self.mode, self.value = mode, real(value, "Padding2D value")

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        if self.mode == "reflect" and any(size is not None and size <= max(pads)
                                          for size, pads in zip(shape[1:3], self.padding)):
            self.shape_error(f"reflects {self.padding} pixels, more than input shape {_fmt(shape)} has "
                             "beyond its edge pixels")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def call(self, x, training=False):
        return F.pad2d(x, self.padding, self.mode, self.value)

    def onnx_nodes(self, onnx, x):
        (top, bottom), (left, right) = self.padding
        if self.mode == "wrap" and onnx.opset < 19:  # Pad wraps from opset 19 on: before, the far rows, the image...
            return self._wrap(onnx, x)
        return onnx.node("Pad", [x, onnx.ints([0, 0, top, left, 0, 0, bottom, right], "pads"),
                                 onnx.constant(self.value, "value")], mode=self.mode)

    def _wrap(self, onnx, x):
        shape = onnx.shape(x)
        for axis, (before, after), size in zip((2, 3), self.padding, shape[1:3]):
            if size is None or max(before, after) > size:
                raise NotImplementedError(f"Padding2D layer '{self.name}' wraps {self.padding} pixels around an input "
                                          f"of shape {shape}: ONNX needs a known size at least as large")
            far = [onnx.node("Slice", [x, onnx.ints([size - before]), onnx.ints([size]), onnx.ints([axis])])] \
                if before else []
            near = [onnx.node("Slice", [x, onnx.ints([0]), onnx.ints([after]), onnx.ints([axis])])] if after else []
            x = onnx.node("Concat", far + [x] + near, axis=axis) if before or after else x
        return x

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "mode": self.mode,
                "value": self.value}

    def keras_config(self, keras3):
        raise ValueError(f"Padding2D layer '{self.name}' has no Keras counterpart (Keras pads with zeros only, "
                         "ZeroPadding2D): save it as .npz or .onnx")


class ZeroPadding2D(Padding2D):
    """Keras's: zeros around each image."""

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, "constant", 0.0, **kwargs)

    def get_config(self):
        return {**Layer.get_config(self), "padding": [list(p) for p in self.padding]}

    def keras_config(self, keras3):
        return Layer.keras_config(self, keras3)


class UpSampling2D(Layer):
    """Images scaled up by whole factors ``size`` (rows, cols): each pixel repeated ("nearest"), or
    interpolated between pixel centres ("bilinear", as Keras and TensorFlow do)."""
    input_ndim = 4

    def __init__(self, size=(2, 2), interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = as_pair(size, "UpSampling2D size")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"UpSampling2D interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, *(None if d is None else d * s for d, s in zip((h, w), self.size)), c)

    def call(self, x, training=False):
        return F.upsample2d(x, self.size, self.interpolation)

    def onnx_nodes(self, onnx, x):
        scales = onnx.constant([1.0, 1.0, *self.size], "scales", dtype=numpy.float32)
        if self.interpolation == "nearest":
            return onnx.node("Resize", [x, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric",
                             nearest_mode="floor")
        return onnx.node("Resize", [x, "", scales], mode="linear", coordinate_transformation_mode="half_pixel")

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


class CropLike(Layer):
    """``CropLike()([x, reference])``: ``x``'s first rows and columns, as many as ``reference`` has.

    A feature pyramid upsamples a coarse map by 2 and adds it to a finer one, whose size is the
    coarse one's doubled, or one less after a stride-2 convolution of an odd size (PyTorch's
    nearest ``interpolate`` to the finer map's size is exactly this crop of the doubled map). The
    size is only known when the model runs, so a Keras ``Cropping2D`` of fixed amounts cannot do it."""

    def check_input_shape(self, shapes):
        if not isinstance(shapes, list) or len(shapes) != 2 or any(len(s) != 4 for s in shapes):
            self.shape_error(f"takes a list of two images [x, reference], got {_fmt(shapes) if shapes else shapes}")
        if any(a is not None and b is not None and a < b for a, b in zip(shapes[0][1:3], shapes[1][1:3])):
            self.shape_error(f"crops to the reference's rows and columns, more than x has: shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        (n, _, _, c), (_, h, w, _) = input_shape
        return (n, h, w, c)

    def call(self, inputs, training=False):
        x, reference = inputs
        return x[:, :reference.shape[1], :reference.shape[2]]

    def onnx_nodes(self, onnx, inputs):
        x, reference = inputs
        size = onnx.node("Slice", [onnx.node("Shape", [reference], rank=1), onnx.ints([2]), onnx.ints([4])])
        return onnx.node("Slice", [x, onnx.ints([0, 0]), size, onnx.ints([2, 3])])

    def keras_config(self, keras3):
        raise ValueError(f"CropLike layer '{self.name}' has no Keras counterpart (Keras's Cropping2D crops fixed "
                         "amounts): save it as .npz or .onnx")


class Reshape(Layer):
    """Each example to ``target_shape`` (one entry may be -1), in row-major (NHWC) order."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if not all(d == -1 or whole_size(d, 1) for d in self.target_shape) or self.target_shape.count(-1) > 1:
            raise ValueError(f"Reshape target_shape must hold positive sizes and at most one -1, got {target_shape!r}")

    def compute_output_shape(self, input_shape):
        known = [d for d in self.target_shape if d != -1]
        size = None if any(d is None for d in input_shape[1:]) else int(numpy.prod(input_shape[1:]))
        if size is None:  # the -1 is known only when the model runs
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        fill = size // max(int(numpy.prod(known)), 1)
        shape = tuple(fill if d == -1 else d for d in self.target_shape)
        if int(numpy.prod(shape)) != size:
            self.shape_error(f"cannot reshape input shape {_fmt(input_shape)} to {self.target_shape}")
        return (input_shape[0], *shape)

    def call(self, x, training=False):
        return ops.reshape(x, (x.shape[0], *self.target_shape))

    def onnx_nodes(self, onnx, x):
        target = onnx.ints([0, *self.target_shape])  # 0: the batch as it is
        return onnx.from_minifer_order(onnx.node("Reshape", [onnx.to_minifer_order(x), target],
                                                 rank=1 + len(self.target_shape)))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorders the axes after the batch: ``dims`` is a permutation of 1..rank - 1, as in Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)) or not all(isinstance(d, int) for d in self.dims):
            raise ValueError(f"Permute dims must be a permutation of 1..{len(self.dims)}, got {dims!r}")

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        if len(shape) != len(self.dims) + 1:
            self.shape_error(f"permutes {len(self.dims)} axes, got input shape {_fmt(shape)}")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def call(self, x, training=False):
        return F.permute(x, self.dims)

    def onnx_nodes(self, onnx, x):
        """One Transpose from the file's order of the input to the file's order of the output."""
        rank = onnx.rank(x)
        order = (0, 2, 3, 1) if rank == 4 else tuple(range(rank))  # the file's axis of each minifer axis
        back = (0, 3, 1, 2) if rank == 4 else tuple(range(rank))
        perm = (0, *self.dims)
        return onnx.node("Transpose", [x], perm=[order[perm[back[i]]] for i in range(rank)])

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class Concatenate(Layer):
    """Joins a list of inputs along ``axis`` (default: channels); the other axes must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate axis must be an int, got {axis!r}")
        self.axis = axis

    def check_input_shape(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            self.shape_error(f"takes a list of at least two inputs, got {_fmt(shapes) if shapes else shapes}")
        rank = len(shapes[0])
        axis = self.axis % rank
        for shape in shapes[1:]:
            if len(shape) != rank or any(a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis):
                self.shape_error(f"needs inputs that agree except on axis {self.axis}, got shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        axis = self.axis % len(input_shape[0])
        sizes = [s[axis] for s in input_shape]
        shape = list(input_shape[0])
        shape[axis] = None if None in sizes else sum(sizes)
        return tuple(shape)

    def call(self, inputs, training=False):
        return F.concatenate(inputs, self.axis)

    def onnx_nodes(self, onnx, inputs):
        return onnx.node("Concat", inputs, axis=onnx.axis(inputs[0], self.axis))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Rescaling(Layer):
    """``x * scale + offset``: pixel scaling inside the model (1/255, or 1/127.5 and -1 for [-1, 1])."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = real(scale, "Rescaling scale"), real(offset, "Rescaling offset")

    def call(self, x, training=False):
        return F.rescale(x, self.scale, self.offset)

    def onnx_nodes(self, onnx, x):
        return onnx.node("Add", [onnx.node("Mul", [x, onnx.constant(self.scale)]), onnx.constant(self.offset)])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class SpatialDropout2D(Dropout):
    """Drops whole feature maps in training (neighbouring pixels are too correlated for plain dropout)."""
    input_ndim = 4

    def call(self, x, training=False):
        return F.spatial_dropout2d(x, self.rate, training, self.rng)

    inference_step = Dropout.inference_step  # in inference, as plain dropout: the identity, written nowhere
    onnx_nodes = Dropout.onnx_nodes

    def keras_config(self, keras3):
        config = self.get_config()
        config.pop("trainable", None)  # Keras 3's SpatialDropout2D refuses the argument every other layer takes
        return type(self).__name__, config

