"""Convolutions in NHWC: conv2d and depthwise_conv2d, each a Function over a kernel pair.

A Function checks its geometry once, asks the kernel set of its input's arrays for the pair
(``minifer.kernels``), keeps only what backward needs and adds the bias gradient itself.
conv2d's formulation ("shift", "gemm", "im2col" on the CPU) is the kernel set's choice unless
``path`` names one; every path gives the same result.
"""
from ..autograd import Function
from ..kernels import kernels_for
from .geometry import as_pair, window_geometry


class _ConvolutionFunction(Function):
    """What both convolutions share: the geometry, what backward keeps, the bias gradient."""

    def __init__(self, strides, padding):
        self.strides, self.padding = strides, padding

    def forward(self, x, w, b=None):
        k = kernels_for(x)
        self.pads, self.out_hw = window_geometry(x.shape[1:3], w.shape[:2], self.strides, self.padding, "kernel")
        y, saved = self.run_forward(k, x, w, b)
        self.saved = saved if self.needs_grad[1] else None  # for dw
        self.w = w if self.needs_grad[0] else None  # for dx
        self.x_shape, self.w_shape = x.shape, w.shape
        return y

    def backward(self, g):
        k = kernels_for(g)
        dx, dw = self.run_backward(k, g)
        db = k.channel_sum(g.reshape(-1, g.shape[-1])) if len(self.needs_grad) > 2 and self.needs_grad[2] else None
        return dx, dw, db


class Conv2DFunction(_ConvolutionFunction):
    def __init__(self, strides, padding, path=None):
        super().__init__(strides, padding)
        self.path = path

    def run_forward(self, k, x, w, b):
        self.path = k.conv2d_path(x.shape, w.shape[:2], self.strides, self.path)
        return k.conv2d_forward(x, w, b, self.strides, self.pads, self.out_hw, self.path)

    def run_backward(self, k, g):
        return k.conv2d_backward(g, self.saved, self.w, self.x_shape, self.w_shape, self.strides, self.pads,
                                 self.out_hw, self.path)


class DepthwiseConv2DFunction(_ConvolutionFunction):
    """Each input channel c convolved with its own M filters; output channel c*M + m."""

    def run_forward(self, k, x, w, b):
        return k.depthwise_forward(x, w, b, self.strides, self.pads, self.out_hw)

    def run_backward(self, k, g):
        return k.depthwise_backward(g, self.saved, self.w, self.x_shape, self.w_shape, self.strides, self.pads,
                                    self.out_hw)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", path=None):
    """NHWC convolution with a Keras-layout kernel (kh, kw, in, out); ``path`` forces a formulation."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2DFunction(as_pair(strides, "strides"), padding, path)(*args)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """NHWC depthwise convolution with a kernel (kh, kw, in, depth_multiplier)."""
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConv2DFunction(as_pair(strides, "strides"), padding)(*args)
