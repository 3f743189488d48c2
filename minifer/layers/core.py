"""Dense, Dropout and Add."""
import numpy

from . import activations, inference, regularizers
from .. import functional as F
from .arguments import positive_int
from .base import Layer, _fmt


class Dense(Layer):
    min_ndim = 2

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation, self.use_bias = positive_int(units, "units"), activation, use_bias
        self._activation = activations.get(activation)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape, dtype):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer, dtype,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, dtype,
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def call(self, x, training=False):
        return self._activation(F.dense(x, self.kernel, self.bias))

    def inference_step(self, listed=False, affine=None):
        weights = self.get_weights() if affine is None else self.absorb_affine(*affine)[1]
        kernel, bias = weights[0], (weights[1] if len(weights) > 1 else None)
        activation = activations.in_place(self.activation)

        def step(args, consumable):
            y = args[0] @ kernel
            if bias is not None:
                y += bias
            return activation(y), True
        return step

    def absorb_affine(self, scale, shift):
        if self.activation not in (None, "linear"):
            return None
        weights = inference.affine_folded(self.get_weights(), self.use_bias, scale, shift)
        return {**self.get_config(), "use_bias": True}, weights

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer,
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Dropout(Layer):
    """Inverted dropout in training, identity in inference; ``seed`` gives the layer its own generator."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"{type(self).__name__} rate must be in [0, 1), got {rate!r}")
        self.rate, self.seed = rate, seed
        self.rng = None if seed is None else numpy.random.default_rng(seed)  # a checkpoint keeps its state

    def call(self, x, training=False):
        return F.dropout(x, self.rate, training, self.rng)

    def inference_step(self, listed=False, affine=None):
        return inference.identity_step

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Add(Layer):
    """Elementwise sum of a list of inputs of one shape (a residual connection)."""

    def check_input_shape(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            self.shape_error(f"takes a list of at least two inputs, got {_fmt(shapes) if shapes else shapes}")
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(
                    a is not None and b is not None and a != b for a, b in zip(shape, shapes[0])):
                self.shape_error(f"needs inputs of one shape, got shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def call(self, inputs, training=False):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total

    def inference_step(self, listed=False, affine=None):
        def step(args, consumable):  # the first input is written into when nothing else reads it
            total = args[0] if consumable else args[0].copy()
            for x in args[1:]:
                total += x
            return total, True
        return step
