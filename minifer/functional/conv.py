"""Convolutions in NHWC: conv2d and depthwise_conv2d, each a Function over a kernel pair.

A Function checks its geometry once, asks the kernel set of its input's arrays for the pair
(``minifer.kernels``), keeps only what backward needs and adds the bias gradient itself.
conv2d's formulation ("shift", "gemm", "im2col" on the CPU) is the kernel set's choice unless
``path`` names one; every path gives the same result.

Dilated and grouped convolutions are compositions, so every kernel set computes them with the
kernels it has: a dilated kernel is the kernel with zeros between its taps (``dilated``); a
grouped convolution is one convolution per group, concatenated, or a depthwise one where each
group holds one input channel (docs/benchmarks.md measures what both cost).
"""
from ..autograd import Function, ops
from ..backend import get_xp
from ..kernels import kernels_for
from .geometry import as_pair, window_geometry
from .shape import concatenate


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


class DilateKernelFunction(Function):
    """A (kh, kw, ...) kernel spread out with ``rate - 1`` zeros between its taps."""

    def __init__(self, rate):
        self.rate = rate

    def forward(self, w):
        return dilated_array(w, self.rate)

    def backward(self, g):
        return (get_xp(g).ascontiguousarray(g[::self.rate[0], ::self.rate[1]]),)


def dilated_array(w, rate):
    """The array ``w`` (kh, kw, ...) with ``rate - 1`` zero rows and columns between its taps."""
    (kh, kw), (dh, dw) = w.shape[:2], rate
    if (dh, dw) == (1, 1):
        return w
    out = get_xp(w).zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, *w.shape[2:]), dtype=w.dtype)
    out[::dh, ::dw] = w
    return out


def dilated(kernel, rate):
    """``kernel`` for a convolution at dilation ``rate``: as it is at rate 1, else spread out."""
    rate = as_pair(rate, "dilation_rate")
    return kernel if rate == (1, 1) else DilateKernelFunction(rate)(kernel)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", path=None, dilation_rate=1, groups=1):
    """NHWC convolution with a Keras-layout kernel (kh, kw, in / groups, out); ``path`` forces a
    formulation. Output channel f of ``groups`` > 1 sees input channels group(f) * in / groups on."""
    kernel = dilated(kernel, dilation_rate)
    if groups != 1:
        return _grouped(x, kernel, bias, strides, padding, path, groups)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2DFunction(as_pair(strides, "strides"), padding, path)(*args)


def _grouped(x, kernel, bias, strides, padding, path, groups):
    kh, kw, per_group, filters = kernel.shape
    channels = x.shape[-1]
    if channels != per_group * groups or filters % groups:
        raise ValueError(f"a convolution in {groups} groups needs input channels {per_group} * {groups} and "
                         f"filters divisible by {groups}; got {channels} channels and {filters} filters")
    if per_group == 1:  # output f = c * M + m reads channel c alone: kernel[..., 0, f] is depthwise [..., c, m]
        return depthwise_conv2d(x, ops.reshape(kernel, (kh, kw, groups, filters // groups)), bias, strides, padding)
    out = filters // groups
    parts = [conv2d(x[..., g * per_group:(g + 1) * per_group], kernel[..., g * out:(g + 1) * out], None, strides,
                    padding, path) for g in range(groups)]
    y = concatenate(parts)
    return y if bias is None else y + bias


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """NHWC depthwise convolution with a kernel (kh, kw, in, depth_multiplier)."""
    kernel = dilated(kernel, dilation_rate)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConv2DFunction(as_pair(strides, "strides"), padding)(*args)
