"""InputLayer: the source of a graph, with no weights, a fixed per-batch input shape, and the rule
by which it takes arrays.

``minifer.Input(shape)`` (in ``minifer.graph``) makes one and returns the symbolic tensor it
feeds into the graph. An input takes any real numeric array as it is, in its dtype. An input
that declares ``pixel_range=(low, high)`` takes images: uint8 pixels 0..255 are mapped linearly
onto [low, high], float images are taken as already mapped, and what could only be a mistake
is refused (integers other than uint8: is 255 white, or 65535?; whole-number floats above
``high + 1``: pixels converted to float without scaling). Every door of a model (``model(x)``,
fit, evaluate, predict) goes through ``accept``, so the same pixels give the same answer
whichever door they come in by.
"""
import numpy

from ..backend import get_xp
from .arguments import real
from .base import Layer
from .names import unique_name


def scale_pixels(images, pixel_range=(0.0, 1.0), dtype=numpy.float32):
    """uint8 ``images`` as ``dtype`` in ``pixel_range``: 0 to low, 255 to high."""
    low, high = (numpy.dtype(dtype).type(v) for v in pixel_range)
    x = images.astype(dtype) / (numpy.dtype(dtype).type(255) / (high - low))
    return x + low if low else x


class InputLayer(Layer):
    def __init__(self, batch_input_shape=None, dtype="float32", name=None, pixel_range=None, batch_shape=None):
        """``batch_shape`` is Keras 3's name for ``batch_input_shape``."""
        super().__init__(name=name or _input_name(), dtype=dtype_name(dtype))
        shape = batch_input_shape if batch_input_shape is not None else batch_shape
        if shape is None:
            raise ValueError(f"InputLayer '{self.name}' needs a batch_input_shape")
        self.batch_input_shape = tuple(shape)
        self.built, self.input_shape = True, self.batch_input_shape
        self.pixel_range = None if pixel_range is None else _range(pixel_range)

    def compute_output_shape(self, input_shape):
        return self.batch_input_shape

    def accept(self, x):
        """The array ``x`` (NumPy or CuPy) as this input takes it, in its dtype; a TypeError or
        ValueError naming the input where it cannot."""
        if x.dtype.kind not in "biuf":
            raise TypeError(f"input '{self.name}' takes real numbers, got an array of dtype {x.dtype}")
        if self.pixel_range is None:
            return x.astype(self.dtype, copy=False)
        if x.dtype == numpy.uint8:
            return scale_pixels(x, self.pixel_range, self.dtype)
        if x.dtype.kind in "iub":
            raise TypeError(f"input '{self.name}' takes images: pixels of dtype {x.dtype} are ambiguous; give uint8 "
                            f"pixels (0-255, mapped to {list(self.pixel_range)} here) or float images already in "
                            "that range")
        xp, high = get_xp(x), self.pixel_range[1]
        if x.ndim >= 3 and x.size and float(x.max()) > high + 1 and bool(xp.all(x == xp.floor(x))):
            raise ValueError(f"input '{self.name}' takes images in {list(self.pixel_range)}; these float images "
                             f"hold whole numbers up to {float(x.max()):g}: pixels in 0-255 converted to float "
                             "without scaling? Pass them as uint8, or scale them to the range")
        return x.astype(self.dtype, copy=False)

    def get_config(self):
        config = {"name": self.name, "batch_input_shape": list(self.batch_input_shape), "dtype": self.dtype}
        return config if self.pixel_range is None else {**config, "pixel_range": list(self.pixel_range)}


def dtype_name(dtype):
    """A dtype's name; Keras 3 may write a DTypePolicy config ({"config": {"name": ...}})."""
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name")
    return str(numpy.dtype(dtype or "float32"))


def _range(pixel_range):
    try:
        low, high = (real(v, "pixel_range") for v in pixel_range)
    except (TypeError, ValueError):
        raise ValueError(f"pixel_range must be two finite numbers (low, high), got {pixel_range!r}") from None
    if not low < high:
        raise ValueError(f"pixel_range must rise from low to high, got {pixel_range!r}")
    return low, high


def _input_name():
    """Keras 2 numbers inputs from one: ``input_1``, ``input_2``, ... (the paper's tables)."""
    name = unique_name("input")
    return "input_1" if name == "input" else f"input_{int(name.rsplit('_', 1)[1]) + 1}"
