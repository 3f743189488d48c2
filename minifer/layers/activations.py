"""Activations by Keras name (the ``activation=`` of Dense and the convolutions), and the layers
that are activations: Activation, ReLU, Softmax, LeakyReLU, PReLU and ELU. ``onnx_activation``
writes an activation by name as ONNX operators (opset 17: GELU through Erf)."""
import math

from .. import functional as F
from ..autograd import Tensor
from ..functional.activation import SELU_ALPHA, SELU_SCALE
from . import inference, regularizers
from .arguments import real
from .base import Layer

_BY_NAME = {
    "linear": lambda x: x,
    "relu": F.relu,
    "softmax": F.softmax,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "swish": F.swish,
    "silu": F.swish,  # Keras 3's name for swish
    "gelu": F.gelu,
    "leaky_relu": F.leaky_relu,
    "hard_sigmoid": F.hard_sigmoid,  # Keras 3's, relu6(x + 3) / 6
    "hard_silu": F.hard_swish,
    "hard_swish": F.hard_swish,  # Keras 3's other name for hard_silu
    "log_softmax": F.log_softmax,
}
_IN_PLACE = {"linear": lambda y: y, "relu": inference.relu_in_place, "softmax": inference.softmax_in_place}


def get(identifier):
    if identifier is None:
        identifier = "linear"
    try:
        return _BY_NAME[identifier]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {identifier!r}; known: {sorted(_BY_NAME)}") from None


def _gelu_nodes(onnx, x):
    """GELU, an operator from opset 20 on; before, x * (1 + erf(x / sqrt 2)) / 2."""
    if onnx.opset >= 20:
        return onnx.node("Gelu", [x])
    erf = onnx.node("Erf", [onnx.node("Mul", [x, onnx.constant(1 / math.sqrt(2))])])
    half = onnx.node("Mul", [x, onnx.constant(0.5)])
    return onnx.node("Mul", [half, onnx.node("Add", [erf, onnx.constant(1.0)])])


_ONNX = {
    "linear": lambda onnx, x: x,
    "relu": lambda onnx, x: onnx.node("Relu", [x]),
    "softmax": lambda onnx, x: onnx.node("Softmax", [x], axis=onnx.axis(x, -1)),
    "sigmoid": lambda onnx, x: onnx.node("Sigmoid", [x]),
    "tanh": lambda onnx, x: onnx.node("Tanh", [x]),
    "elu": lambda onnx, x: onnx.node("Elu", [x], alpha=1.0),
    "selu": lambda onnx, x: onnx.node("Selu", [x], alpha=SELU_ALPHA, gamma=SELU_SCALE),
    "softplus": lambda onnx, x: onnx.node("Softplus", [x]),
    "swish": lambda onnx, x: onnx.node("Mul", [x, onnx.node("Sigmoid", [x])]),
    "gelu": _gelu_nodes,
    "leaky_relu": lambda onnx, x: onnx.node("LeakyRelu", [x], alpha=0.2),
    "hard_sigmoid": lambda onnx, x: onnx.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5),
    "hard_swish": lambda onnx, x: onnx.node("HardSwish", [x]),
    "log_softmax": lambda onnx, x: onnx.node("LogSoftmax", [x], axis=onnx.axis(x, -1)),
}
_ONNX["silu"], _ONNX["hard_silu"] = _ONNX["swish"], _ONNX["hard_swish"]


def onnx_activation(onnx, identifier, x):
    """The activation named ``identifier`` on the value ``x``, written with the ONNX builder ``onnx``."""
    return _ONNX["linear" if identifier is None else identifier](onnx, x)


def in_place(identifier):
    """The activation on an array its caller owns: written in place where it can be (linear, relu,
    softmax over the last axis), else through its function on a Tensor."""
    name = "linear" if identifier is None else identifier
    if name in _IN_PLACE:
        return _IN_PLACE[name]
    fn = get(name)
    return lambda y: fn(Tensor(y)).data


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._activation = get(activation)
        self.activation = activation

    def call(self, x, training=False):
        return self._activation(x)

    def inference_step(self, listed=False, affine=None):
        if self.activation in (None, "linear"):
            return inference.identity_step
        if self.activation in _IN_PLACE:
            return inference.array_step(_IN_PLACE[self.activation], in_place=True)
        return super().inference_step(listed)

    def onnx_nodes(self, onnx, x):
        return onnx_activation(onnx, self.activation, x)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class ReLU(Layer):
    """Keras's ReLU: x above ``threshold`` (0), else ``negative_slope * (x - threshold)`` (0), capped at
    ``max_value`` (none)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else real(max_value, "ReLU max_value", low=0.0)
        self.negative_slope = real(negative_slope, "ReLU negative_slope", low=0.0)
        self.threshold = real(threshold, "ReLU threshold")

    def call(self, x, training=False):
        return F.relu(x, self.negative_slope, self.max_value, self.threshold)

    def inference_step(self, listed=False, affine=None):
        if self.max_value is None and self.negative_slope == 0 and self.threshold == 0:
            return inference.array_step(inference.relu_in_place, in_place=True)
        return super().inference_step(listed)

    def onnx_nodes(self, onnx, x):
        """x above the threshold (clipped to [0, max_value] if capped), less the slope times how far below."""
        if self.threshold == 0 and self.negative_slope == 0:
            y = onnx.node("Relu", [x])
        else:
            above = onnx.node("Greater", [x, onnx.constant(self.threshold)])
            y = onnx.node("Where", [above, x, onnx.constant(0.0)])
        if self.max_value is not None:
            y = onnx.node("Clip", [y, onnx.constant(0.0), onnx.constant(self.max_value)])
        if self.negative_slope:
            below = onnx.node("Relu", [onnx.node("Sub", [onnx.constant(self.threshold), x])])
            y = onnx.node("Sub", [y, onnx.node("Mul", [below, onnx.constant(self.negative_slope)])])
        return y

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class Softmax(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Softmax axis must be an int, got {axis!r}")
        self.axis = axis

    def call(self, x, training=False):
        return F.softmax(x, self.axis)

    def inference_step(self, listed=False, affine=None):
        if self.axis == -1:
            return inference.array_step(inference.softmax_in_place, in_place=True)
        return super().inference_step(listed)

    def onnx_nodes(self, onnx, x):
        return onnx.node("Softmax", [x], axis=onnx.axis(x, self.axis))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class LeakyReLU(Layer):
    """``negative_slope`` is Keras 3's name; Keras 2 called it ``alpha``, which is read too."""

    def __init__(self, negative_slope=0.3, alpha=None, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = real(negative_slope if alpha is None else alpha, "LeakyReLU negative_slope")

    def call(self, x, training=False):
        return F.leaky_relu(x, self.negative_slope)

    def inference_step(self, listed=False, affine=None):
        if 0 <= self.negative_slope <= 1:
            return inference.array_step(inference.leaky_relu_in_place(self.negative_slope), in_place=True)
        return super().inference_step(listed)

    def onnx_nodes(self, onnx, x):
        return onnx.node("LeakyRelu", [x], alpha=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}

    def keras_config(self, keras3):
        config = self.get_config()
        if not keras3:
            config["alpha"] = config.pop("negative_slope")
        return type(self).__name__, config


class ELU(Layer):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = real(alpha, "ELU alpha")

    def call(self, x, training=False):
        return F.elu(x, self.alpha)

    def onnx_nodes(self, onnx, x):
        return onnx.node("Elu", [x], alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """A learned slope per input element, shared along ``shared_axes`` (1-based, batch excluded, as Keras)."""
    min_ndim = 2

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.shared_axes = None if shared_axes is None else (
            [shared_axes] if isinstance(shared_axes, int) else list(shared_axes))

    def build(self, input_shape, dtype):
        shape = [1 if self.shared_axes and axis in self.shared_axes else size
                 for axis, size in enumerate(input_shape) if axis > 0]
        if any(size is None for size in shape):
            self.shape_error(f"needs known sizes on its unshared axes, got input shape {input_shape}")
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer, dtype,
                                     regularizer=self.alpha_regularizer)

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        # only the axes alpha has a size on are fixed; shared ones (and None at build) take any size
        if self.built and (len(shape) != len(self.input_shape) or any(
                a != 1 and s != a for s, a in zip(shape[1:], self.alpha.shape))):
            self.shape_error(f"was built for input shape {self.input_shape} (alpha {self.alpha.shape}), got {shape}")

    def call(self, x, training=False):
        return F.prelu(x, self.alpha)

    def onnx_nodes(self, onnx, x):
        slope = onnx.per_channel(self.alpha.numpy(), onnx.rank(x))
        return onnx.node("PRelu", [x, onnx.weight(self.alpha, slope, "alpha")])

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": self.alpha_initializer,
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer), "shared_axes": self.shared_axes}
