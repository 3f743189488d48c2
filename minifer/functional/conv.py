"""Convolutions in NHWC: conv2d and depthwise_conv2d, each a Function over a kernel pair.

A Function checks its geometry once, asks the kernel set of its input's arrays for the pair
(``minifer.kernels``), keeps only what backward needs and adds the bias gradient itself.
conv2d's formulation ("shift", "gemm", "im2col" on the CPU) is the kernel set's choice unless
``path`` names one; every path gives the same result.

Dilated and grouped convolutions are built on the kernels every set has: a dilated kernel is the
kernel with zeros between its taps (``dilated``); a grouped convolution calls the conv2d pair once
per group, or is a depthwise one where each group holds one input channel (docs/benchmarks.md
measures what both cost).
"""
from ..autograd import Function, ops
from ..backend import get_xp
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


class GroupedConv2DFunction(Conv2DFunction):
    """A convolution in ``groups``: each group of input channels convolved with its share of the
    filters by the conv2d kernel pair, one call per group, forward and backward (slicing Tensors
    instead would give every group a zero gradient the size of the whole input)."""

    def __init__(self, strides, padding, path, groups):
        super().__init__(strides, padding, path)
        self.groups = groups

    def _group(self, array, i):
        size = array.shape[-1] // self.groups
        return get_xp(array).ascontiguousarray(array[..., i * size:(i + 1) * size])

    def run_forward(self, k, x, w, b):
        xp, parts, saved, self.paths = get_xp(x), [], [], []
        for i in range(self.groups):
            xi, wi = self._group(x, i), self._group(w, i)
            self.paths.append(k.conv2d_path(xi.shape, wi.shape[:2], self.strides, self.path))
            y, kept = k.conv2d_forward(xi, wi, None, self.strides, self.pads, self.out_hw, self.paths[-1])
            parts.append(y)
            saved.append(kept)
        y = xp.concatenate(parts, axis=-1)
        return (y if b is None else xp.add(y, b, out=y)), saved

    def run_backward(self, k, g):
        xp, dxs, dws = get_xp(g), [], []
        x_shape = (*self.x_shape[:3], self.x_shape[3] // self.groups)
        w_shape = (*self.w_shape[:3], self.w_shape[3] // self.groups)
        for i in range(self.groups):
            dx, dw = k.conv2d_backward(self._group(g, i), None if self.saved is None else self.saved[i],
                                       None if self.w is None else self._group(self.w, i), x_shape, w_shape,
                                       self.strides, self.pads, self.out_hw, self.paths[i])
            dxs.append(dx)
            dws.append(dw)
        return (None if self.w is None else xp.concatenate(dxs, axis=-1),
                None if self.saved is None else xp.concatenate(dws, axis=-1))


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
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return GroupedConv2DFunction(as_pair(strides, "strides"), padding, path, groups)(*args)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1):
    """NHWC depthwise convolution with a kernel (kh, kw, in, depth_multiplier)."""
    kernel = dilated(kernel, dilation_rate)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return DepthwiseConv2DFunction(as_pair(strides, "strides"), padding)(*args)
