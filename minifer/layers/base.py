"""Layer: owns weights, builds them from the first input shape, checks every input.

Calling a layer on Tensors computes eagerly; calling it on symbolic tensors
(``minifer.Input``) hands the call to the symbolic tensor, which records a graph node
(``minifer.graph``). Both paths go through ``_build_for``, so a bad shape gets the same
error, naming the layer, either way. Every Layer subclass is registered by its class name,
so a saved config finds its class without importing it (``Layer.registry``).
"""
import contextlib
import threading

import numpy

from ..autograd import Tensor
from ..backend import to_device, to_numpy
from ..functional.geometry import conv_output_length, per_axis
from . import inference, initializers, regularizers
from .names import snake_case, unique_name

_local = threading.local()  # this thread's .guard (inside guard_weights)


@contextlib.contextmanager
def guard_weights(check):
    """Call ``check(weight name, shape)`` before each weight made in this block (on this thread)
    is allocated.

    A model file's config could declare a layer far larger than the file's own arrays;
    ``io.model_file`` checks each weight against the file before any memory is spent.
    """
    saved, _local.guard = getattr(_local, "guard", None), check
    try:
        yield
    finally:
        _local.guard = saved


class ShapeError(ValueError):
    """An input whose shape does not fit the layer; the message names both."""


def is_symbolic(inputs):
    first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
    return getattr(first, "is_symbolic", False)


def shape_of(inputs):
    if isinstance(inputs, (list, tuple)):
        return [tuple(x.shape) for x in inputs]
    return tuple(inputs.shape)


class Layer:
    input_ndim = None  # exact rank this layer accepts (None: any rank >= min_ndim)
    min_ndim = 1
    registry = {}  # class name -> class, for every Layer subclass (Model and Sequential too)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            Layer.registry[cls.__name__] = cls

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None):
        """``input_shape`` (per example) is Keras's way to give a Sequential's first layer its input."""
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.batch_input_shape = None if input_shape is None else (None, *input_shape)
        self._trainable = trainable
        self.dtype = dtype
        self.built = False
        self.input_shape = None
        self.inbound_nodes = []  # filled by minifer.graph when called symbolically
        self._weights = []

    # -- calling ---------------------------------------------------------------
    def __call__(self, inputs, training=False):
        if is_symbolic(inputs):
            return _first(inputs).record_call(self, inputs)
        self._build_for(shape_of(inputs), _dtype_of(inputs))
        return self.call(inputs, training=training)

    def call(self, inputs, training=False):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def _build_for(self, input_shape, dtype=None):
        """Check ``input_shape``, build the weights on first use, return the output shape."""
        self.check_input_shape(input_shape)
        output_shape = self.compute_output_shape(input_shape)  # raises where no output fits
        if not self.built:
            self.build(input_shape, _weight_dtype(self.dtype or dtype))
            self.built, self.input_shape = True, input_shape
        return output_shape

    def build(self, input_shape, dtype):
        """Make the weights; layers without weights need not override this."""

    def check_input_shape(self, shape):
        if self.input_ndim is not None and len(shape) != self.input_ndim:
            self.shape_error(f"expects inputs of rank {self.input_ndim}, got shape {_fmt(shape)}")
        if len(shape) < self.min_ndim:
            self.shape_error(f"expects inputs of rank >= {self.min_ndim}, got shape {_fmt(shape)}")
        # only weights fix a channel count; a ReLU or pooling layer takes any (as in Keras)
        if self.built and self._weights and not isinstance(shape, list) and shape[-1] != self.input_shape[-1]:
            self.shape_error(f"was built for inputs with {self.input_shape[-1]} channels (input shape "
                             f"{_fmt(self.input_shape)}), got input shape {_fmt(shape)}")

    def window_output_shape(self, input_shape, window, strides, padding, channels, what="kernel", ceil_mode=False):
        """(N, Ho, Wo, channels) of a sliding ``what`` ("kernel" or "pool"), or this layer's ShapeError."""
        n, h, w, _ = input_shape
        out = [conv_output_length(size, k, s, p, ceil_mode) if size is not None else None
               for size, k, s, p in zip((h, w), window, strides, per_axis(padding))]
        if any(o is not None and o < 1 for o in out):
            self.shape_error(f"has {what} {window}, larger than its {padding!r} input "
                             f"of spatial size {(h, w)} (input shape {input_shape})")
        return (n, *out, channels)

    def shape_error(self, message):
        raise ShapeError(f"{type(self).__name__} layer '{self.name}' {message}")

    # -- weights ---------------------------------------------------------------
    def add_weight(self, name, shape, initializer, dtype, trainable=True, regularizer=None):
        guard = getattr(_local, "guard", None)
        if guard is not None:
            guard(f"{self.name}/{name}", tuple(shape))
        data = to_device(initializers.make(initializer, shape, dtype))  # on the current device
        weight = Tensor(data, requires_grad=trainable and self._trainable, name=f"{self.name}/{name}")
        weight.trainable = trainable
        weight.regularizer = regularizers.get(regularizer)
        self._weights.append(weight)
        return weight

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer stops gradients to its weights (and runs BatchNorm in inference);
        freezing a model freezes every layer in it."""
        self._trainable = bool(value)
        for layer in self.sublayers():
            layer.trainable = value
        for w in self._weights:
            w.requires_grad = w.trainable and self._trainable

    # -- graph ---------------------------------------------------------------
    @property
    def input(self):
        """The symbolic input of this layer's one call (Keras's ``layer.input``)."""
        return self._only_node("input").inputs

    @property
    def output(self):
        """The symbolic output of this layer's one call, so ``Model(model.input, layer.output)``
        builds a feature extractor that shares this layer's weights."""
        outputs = self._only_node("output").outputs
        return outputs[0] if len(outputs) == 1 else outputs

    def _only_node(self, what):
        if len(self.inbound_nodes) != 1:
            raise AttributeError(f"layer '{self.name}' has been called {len(self.inbound_nodes)} times on symbolic "
                                 f"tensors, so it has no single {what}; take it from the model that holds the call")
        return self.inbound_nodes[0]

    def sublayers(self):
        """The layers this one is made of (a Model's layers; none for a plain layer)."""
        return []

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        """NumPy copies in Keras's order, exchangeable with ``keras_layer.get_weights()``."""
        return [to_numpy(w.data).copy() for w in self.weights]

    def set_weights(self, arrays):
        """Set every weight from ``arrays`` in ``weights`` order; if any shape differs, change nothing."""
        weights = self.weights
        if len(arrays) != len(weights):
            raise ValueError(f"{type(self).__name__} '{self.name}' has {len(weights)} weights, got {len(arrays)} "
                             f"arrays (its weights: {', '.join(w.name for w in weights) or 'none'})")
        wrong = [f"{w.name}: expected {w.shape}, got {tuple(numpy.shape(a))}" for w, a in zip(weights, arrays)
                 if tuple(numpy.shape(a)) != w.shape]
        if wrong:
            raise ValueError(f"{type(self).__name__} '{self.name}': weight shapes differ: {'; '.join(wrong)}")
        for weight, array in zip(weights, arrays):
            weight.assign(array)

    def count_params(self):
        return sum(w.size for w in self.weights)

    @property
    def losses(self):
        """This layer's regularisation penalties, as scalar Tensors on the current weights."""
        return [w.regularizer(w) for w in self._weights if w.regularizer is not None]

    # -- inference (``predict``; layers/inference.py) ------------------------------------
    def defines_with_call(self, method):
        """Whether ``method`` (a fast step, a fold rule, a file format's spelling) was written for the
        ``call`` this layer runs: False for a subclass that changed ``call`` below the class that
        wrote ``method`` (a user's ``class Doubled(Dense)``), whose inherited fast path would compute
        the parent's layer. Callers then take the layer's own ``call``, or refuse."""
        owner = next(cls for cls in type(self).__mro__ if method in vars(cls))
        caller = next(cls for cls in type(self).__mro__ if "call" in vars(cls))
        if issubclass(owner, caller):
            return True
        # written above the call in use: fine where it was written for no call of its own (Layer's
        # defaults, a shared base such as the pools'), wrong where its class had a call of its own
        return not any("call" in vars(cls) for cls in owner.__mro__ if cls not in (Layer, object))

    def inference_step(self, listed=False, affine=None):
        """This layer's forward on raw arrays for ``predict``: ``step(arrays, consumable) -> (array,
        fresh)`` (``layers/inference.py``). ``listed``: the call took a list of inputs. ``affine``:
        (scale, shift) per output channel to apply after the layer, given only where
        ``absorb_affine`` accepted it. By default the layer's own ``call``, so ``predict`` honours
        every argument; a layer overrides it where a prepared step pays."""
        return inference.call_step(self, listed)

    def inference_affine(self):
        """(scale, shift) per channel, float64, where this layer in inference is ``x * scale +
        shift`` (the layer before may absorb it); None for most layers."""
        return None

    def absorb_affine(self, scale, shift):
        """(config, weights) of a layer computing this one followed by ``y * scale + shift`` per
        output channel, or None where it cannot (the default)."""
        return None

    def onnx_nodes(self, onnx, inputs):
        """This layer as ONNX operators written with ``onnx`` (``io/onnx_export.OnnxBuilder``; 4-D values
        are NCHW there) on ``inputs`` (a name, or a list); returns the output's name."""
        raise NotImplementedError(f"{type(self).__name__} layer '{self.name}' cannot be written to ONNX")

    # -- configuration -----------------------------------------------------------
    def get_config(self):
        """Constructor arguments as JSON-able values; ``type(self)(**config)`` rebuilds the layer."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def keras_config(self, keras3):
        """(class name, config) as Keras writes this layer (Keras 3's spelling, else Keras 2's):
        minifer's own by default, since minifer's layers take Keras's names and arguments."""
        return type(self).__name__, self.get_config()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _fmt(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _first(inputs):
    return inputs[0] if isinstance(inputs, (list, tuple)) else inputs


def _dtype_of(inputs):
    return getattr(_first(inputs), "dtype", None)


def _weight_dtype(dtype):
    """Weights follow a floating input's dtype (float64 gradient checks), else float32."""
    if dtype is not None and numpy.dtype(dtype).kind == "f":
        return numpy.dtype(dtype)
    return numpy.dtype(numpy.float32)
