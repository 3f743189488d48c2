"""Convolution layers in Keras's NHWC layout: Conv2D, DepthwiseConv2D, PointwiseConv2D, SeparableConv2D.

Each owns its inference step (the kernel pair with its geometry fixed, the activation in place)
and its fold rule: without an activation, a per-channel affine after it (an inference-mode
BatchNormalization) folds into its last kernel and bias. A dilated kernel is spread out once
when the step is made; its window is the spread-out size.
"""
from . import activations, inference, regularizers
from .. import functional as F
from ..autograd import Tensor, no_grad
from ..functional.conv import dilated_array
from ..functional.geometry import as_pair, check_padding
from .arguments import positive_int
from .base import Layer


class _Conv(Layer):
    """What the convolutions share: geometry, activation, bias and the output shape."""
    input_ndim = 4

    def __init__(self, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 bias_initializer="zeros", bias_regularizer=None, dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.padding = check_padding(padding)
        self.dilation_rate = as_pair(dilation_rate, "dilation_rate")
        self.window = tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation_rate))
        self.activation = activation
        self._activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = bias_initializer
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def out_channels(self, in_channels):
        raise NotImplementedError

    def step(self, run):
        """A windowed inference step of ``run(kernels, x, pads, out_hw)``, the activation after it."""
        return inference.windowed(self.strides, self.padding, self.window, run,
                                  activations.in_place(self.activation))

    def step_weights(self, affine, kernels):
        """(the ``kernels`` first weights, the first spread out at this layer's dilation, and the bias or
        None) as the step uses them, with ``affine`` folded in."""
        weights = self.get_weights() if affine is None else self.absorb_affine(*affine)[1]
        first = dilated_array(weights[0], self.dilation_rate)
        return [first, *weights[1:kernels]], (weights[kernels] if len(weights) > kernels else None)

    def absorb_affine(self, scale, shift, channel_axes=1):
        if self.activation not in (None, "linear"):
            return None
        weights = inference.affine_folded(self.get_weights(), self.use_bias, scale, shift, channel_axes)
        return {**self.get_config(), "use_bias": True}, weights

    def compute_output_shape(self, input_shape):
        return self.window_output_shape(input_shape, self.window, self.strides, self.padding,
                                        self.out_channels(input_shape[-1]))

    def onnx_conv(self, onnx, x, weight, hint, bias=None, group=1):
        """An ONNX Conv of ``x`` with the OIHW array ``weight`` (made from the weight ``hint`` names) and
        this layer's strides, dilation and padding; the bias and activation are the caller's."""
        inputs = [x, onnx.weight(self, weight, hint)] + ([onnx.weight(self, bias, "bias")] if bias is not None else [])
        return onnx.node("Conv", inputs, kernel_shape=list(weight.shape[2:]), strides=list(self.strides),
                         group=group, dilations=list(self.dilation_rate),
                         **onnx.window_padding(self.padding, onnx.shape(x), self.window, self.strides))

    def activation_nodes(self, onnx, y):
        return activations.onnx_activation(onnx, self.activation, y)

    def add_bias(self, channels, dtype):
        if self.use_bias:
            self.bias = self.add_weight("bias", (channels,), self.bias_initializer, dtype,
                                        regularizer=self.bias_regularizer)
        else:
            self.bias = None

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "dilation_rate": list(self.dilation_rate),
                "activation": self.activation, "use_bias": self.use_bias,
                "bias_initializer": self.bias_initializer,
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Conv2D(_Conv):
    """``groups`` > 1: the input channels split into that many groups, each convolved with its own
    share of the filters; the kernel is (kh, kw, in / groups, filters), as in Keras."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", kernel_regularizer=None, groups=1, **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, **kwargs)
        self.filters = positive_int(filters, "filters")
        self.groups = positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(f"Conv2D filters ({self.filters}) must be a multiple of groups ({self.groups})")
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def out_channels(self, in_channels):
        return self.filters

    def check_input_shape(self, shape):
        super().check_input_shape(shape)
        if shape[-1] is not None and shape[-1] % self.groups:
            self.shape_error(f"has {self.groups} groups, which {shape[-1]} input channels do not divide into")

    def build(self, input_shape, dtype):
        shape = (*self.kernel_size, input_shape[-1] // self.groups, self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer, dtype,
                                      regularizer=self.kernel_regularizer)
        self.add_bias(self.filters, dtype)

    def call(self, x, training=False):
        return self._activation(F.conv2d(x, self.kernel, self.bias, self.strides, self.padding,
                                         dilation_rate=self.dilation_rate, groups=self.groups))

    def inference_step(self, listed=False, affine=None):
        (kernel,), bias = self.step_weights(affine, 1)

        def run(k, x, pads, out_hw):
            path = k.conv2d_path(x.shape, kernel.shape[:2], self.strides)
            return k.conv2d_forward(x, kernel, bias, self.strides, pads, out_hw, path)[0]

        def grouped(k, x, pads, out_hw):  # the groups' composition of convolutions, on arrays
            with no_grad():
                y = F.conv2d(Tensor(x), Tensor(kernel), None if bias is None else Tensor(bias), self.strides,
                             self.padding, groups=self.groups)
            return y.data
        return self.step(run if self.groups == 1 else grouped)

    def onnx_nodes(self, onnx, x):
        bias = None if self.bias is None else self.bias.numpy()
        y = self.onnx_conv(onnx, x, self.kernel.numpy().transpose(3, 2, 0, 1), "kernel", bias, self.groups)
        return self.activation_nodes(onnx, y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": self.kernel_initializer,
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer)}


class PointwiseConv2D(Conv2D):
    """A 1x1 convolution: a per-pixel Dense over the channels, kernel (1, 1, in, filters)."""

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(filters, 1, strides, "valid", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["kernel_size"], config["padding"], config["dilation_rate"]
        return config

    def keras_config(self, keras3):
        """Keras has no pointwise layer: it is a 1x1 Conv2D there."""
        return Conv2D.__name__, {**self.get_config(), "kernel_size": [1, 1], "padding": "valid"}


class DepthwiseConv2D(_Conv):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", depthwise_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = depthwise_initializer
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)

    def out_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def build(self, input_shape, dtype):
        shape = (*self.kernel_size, input_shape[-1], self.depth_multiplier)
        self.depthwise_kernel = self.add_weight("depthwise_kernel", shape, self.depthwise_initializer, dtype,
                                                regularizer=self.depthwise_regularizer)
        self.add_bias(input_shape[-1] * self.depth_multiplier, dtype)

    def call(self, x, training=False):
        return self._activation(F.depthwise_conv2d(x, self.depthwise_kernel, self.bias, self.strides, self.padding,
                                                   self.dilation_rate))

    def inference_step(self, listed=False, affine=None):
        (kernel,), bias = self.step_weights(affine, 1)
        return self.step(lambda k, x, pads, out_hw: k.depthwise_forward(x, kernel, bias, self.strides, pads,
                                                                        out_hw)[0])

    def absorb_affine(self, scale, shift, channel_axes=2):
        return super().absorb_affine(scale, shift, channel_axes)  # output c * M + m is kernel[..., c, m]

    def onnx_nodes(self, onnx, x):
        bias = None if self.bias is None else self.bias.numpy()
        return self.activation_nodes(onnx, self.onnx_conv(onnx, x, depthwise_oihw(self.depthwise_kernel.numpy()),
                                                          "depthwise_kernel", bias, self.depthwise_kernel.shape[2]))

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": self.depthwise_initializer,
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer)}


class SeparableConv2D(_Conv):
    """Depthwise (strided, no bias) then a 1x1 pointwise convolution, one bias at the end."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 depthwise_regularizer=None, pointwise_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, activation, use_bias, **kwargs)
        self.filters = positive_int(filters, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def out_channels(self, in_channels):
        return self.filters

    def build(self, input_shape, dtype):
        c, m = input_shape[-1], self.depth_multiplier
        self.depthwise_kernel = self.add_weight("depthwise_kernel", (*self.kernel_size, c, m),
                                                self.depthwise_initializer, dtype,
                                                regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight("pointwise_kernel", (1, 1, c * m, self.filters),
                                                self.pointwise_initializer, dtype,
                                                regularizer=self.pointwise_regularizer)
        self.add_bias(self.filters, dtype)

    def call(self, x, training=False):
        y = F.depthwise_conv2d(x, self.depthwise_kernel, None, self.strides, self.padding, self.dilation_rate)
        return self._activation(F.conv2d(y, self.pointwise_kernel, self.bias))

    def inference_step(self, listed=False, affine=None):
        (depthwise, pointwise), bias = self.step_weights(affine, 2)

        def run(k, x, pads, out_hw):
            y = k.depthwise_forward(x, depthwise, None, self.strides, pads, out_hw)[0]
            return k.conv2d_forward(y, pointwise, bias, (1, 1), ((0, 0), (0, 0)), out_hw, "gemm")[0]
        return self.step(run)

    def onnx_nodes(self, onnx, x):
        y = self.onnx_conv(onnx, x, depthwise_oihw(self.depthwise_kernel.numpy()), "depthwise_kernel",
                           group=self.depthwise_kernel.shape[2])
        bias = None if self.bias is None else self.bias.numpy()
        y = onnx.node("Conv", [y, onnx.weight(self, self.pointwise_kernel.numpy().transpose(3, 2, 0, 1), "pointwise")]
                      + ([onnx.weight(self, bias, "bias")] if bias is not None else []), kernel_shape=[1, 1])
        return self.activation_nodes(onnx, y)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": self.depthwise_initializer,
                "pointwise_initializer": self.pointwise_initializer,
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer)}


def depthwise_oihw(kernel):
    """A depthwise kernel (kh, kw, C, M) as ONNX's grouped Conv weight (C * M, 1, kh, kw), output c * M + m."""
    kh, kw, c, m = kernel.shape
    return kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
