"""Dense, Dropout, the elementwise merges Add, Multiply and Subtract, and Scale."""
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

    def onnx_nodes(self, onnx, x):
        """Gemm on (N, in); a 1x1 Conv on an image (its channels are ONNX's axis 1); MatMul otherwise."""
        kernel, rank = self.kernel.numpy(), onnx.rank(x)
        bias = [onnx.weight(self, self.bias.numpy(), "bias")] if self.use_bias else []
        if rank == 4:
            y = onnx.node("Conv", [x, onnx.weight(self, kernel.T[:, :, None, None], "kernel_1x1")] + bias,
                          kernel_shape=[1, 1])
        elif rank == 2:
            y = onnx.node("Gemm", [x, onnx.weight(self, kernel, "kernel")] + bias)
        else:
            y = onnx.node("MatMul", [x, onnx.weight(self, kernel, "kernel")])
            y = onnx.node("Add", [y] + bias) if bias else y
        return activations.onnx_activation(onnx, self.activation, y)

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

    def onnx_nodes(self, onnx, x):
        return x  # inference: nothing to write

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class _Merge(Layer):
    """An elementwise merge of a list of inputs (``arity`` of them, or two or more) whose shapes are
    equal, or where ``broadcasts``, broadcast against each other as Keras's merge layers allow."""
    arity = None
    broadcasts = False
    onnx_op = None  # the ONNX operator of two inputs the merge chains

    def check_input_shape(self, shapes):
        count = f"{self.arity}" if self.arity else "at least two"
        if not isinstance(shapes, list) or len(shapes) < 2 or (self.arity and len(shapes) != self.arity):
            self.shape_error(f"takes a list of {count} inputs, got {_fmt(shapes) if shapes else shapes}")
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(a is not None and b is not None and a != b and not (
                    self.broadcasts and 1 in (a, b)) for a, b in zip(shape, shapes[0])):
                agree = "broadcast against each other" if self.broadcasts else "of one shape"
                self.shape_error(f"needs inputs {agree}, got shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        return tuple(max((s[i] for s in input_shape if s[i] is not None), default=None)
                     for i in range(len(input_shape[0])))

    def onnx_nodes(self, onnx, inputs):
        y = inputs[0]
        for x in inputs[1:]:
            y = onnx.node(self.onnx_op, [y, x])
        return y


class Add(_Merge):
    """Elementwise sum of a list of inputs of one shape (a residual connection)."""
    onnx_op = "Add"

    def call(self, inputs, training=False):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        return total

    def inference_step(self, listed=False, affine=None):
        def step(args, consumable):  # the first input is written into when nothing else reads it
            if any(x.shape != args[0].shape for x in args[1:]):  # sizes left open in the graph: as call refuses
                self.check_input_shape([x.shape for x in args])
            total = args[0] if consumable else args[0].copy()
            for x in args[1:]:
                total += x
            return total, True
        return step


class Multiply(_Merge):
    """Elementwise product of a list of inputs (a gate: a (N, 1, 1, C) input scales each channel)."""
    broadcasts, onnx_op = True, "Mul"

    def call(self, inputs, training=False):
        product = inputs[0]
        for x in inputs[1:]:
            product = product * x
        return product


class Subtract(_Merge):
    """The first of two inputs minus the second."""
    arity, broadcasts, onnx_op = 2, True, "Sub"

    def call(self, inputs, training=False):
        return inputs[0] - inputs[1]


class Scale(Layer):
    """``x * scale + bias`` with learned ``scale`` and ``bias`` of ``shape``, which broadcasts against
    each example (``(C,)``: one pair per channel): Caffe's Scale layer, and what an ONNX file's
    multiplication or addition by a constant becomes. Keras has no such layer."""

    def __init__(self, shape, scale_initializer="ones", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(shape)
        if not all(isinstance(d, int) and 1 <= d <= 1 << 24 for d in self.shape):
            raise ValueError(f"Scale shape must hold sizes from 1 to {1 << 24}, got {shape!r}")
        self.scale_initializer, self.bias_initializer = scale_initializer, bias_initializer

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        example = shape[1:]
        if len(self.shape) > len(example) or any(
                d != 1 and s is not None and d != s for d, s in zip(self.shape[::-1], example[::-1])):
            self.shape_error(f"has weights of shape {self.shape}, which do not broadcast against input shape "
                             f"{_fmt(shape)} without changing it")

    def build(self, input_shape, dtype):
        self.scale = self.add_weight("scale", self.shape, self.scale_initializer, dtype)
        self.bias = self.add_weight("bias", self.shape, self.bias_initializer, dtype)

    def call(self, x, training=False):
        return x * self.scale + self.bias

    def onnx_nodes(self, onnx, x):
        scale, bias = (onnx.weight(w, onnx.per_channel(w.numpy(), onnx.rank(x)), w.name.rsplit("/", 1)[-1])
                       for w in (self.scale, self.bias))
        return onnx.node("Add", [onnx.node("Mul", [x, scale]), bias])

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape), "scale_initializer": self.scale_initializer,
                "bias_initializer": self.bias_initializer}

    def keras_config(self, keras3):
        raise ValueError(f"Scale layer '{self.name}' has no Keras counterpart: save it as .npz or .onnx")
