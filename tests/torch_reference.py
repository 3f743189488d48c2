"""Independent PyTorch references for the NHWC/Keras-layout primitives.

Layouts: minifer images are NHWC and kernels Keras's (kh, kw, in, out); PyTorch wants
NCHW and OIHW. Padding: Keras's "same" puts the odd extra pixel bottom/right, while
PyTorch's padding="same" (stride 1 only) puts it top/left for even kernels, so every
reference here pads explicitly with F.pad using Keras's rule, written out again below
rather than imported from minifer.
"""
import math

import numpy
import torch
import torch.nn.functional as TF

from minifer import Tensor

# PyTorch's oneDNN (mkldnn) CPU convolution is itself wrong on some small geometries: with
# torch 2.13.0+cpu a 4x4 kernel over a 6x4 input at stride (1, 3) returns uninitialised
# values (about 1e24, different on each call). Such bugs recur (pytorch#25101, #84488), so the
# oracle uses PyTorch's native kernels; test_reference_conv_matches_a_direct_sum guards this.
torch.backends.mkldnn.enabled = False


def keras_same_pads(size, kernel, stride):
    """(before, after) for one axis: total = max((ceil(n/s) - 1) * s + k - n, 0), extra after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_like_keras(x_nchw, kernel, strides, padding, value=0.0):
    if padding == "valid":
        return x_nchw
    (top, bottom), (left, right) = (keras_same_pads(n, k, s) for n, k, s in
                                    zip(x_nchw.shape[2:], kernel, strides))
    return TF.pad(x_nchw, (left, right, top, bottom), value=value)  # F.pad lists the last axis first


def nchw(x_nhwc):
    return torch.tensor(numpy.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)), requires_grad=True)


def to_nhwc(t_nchw):
    return t_nchw.detach().numpy().transpose(0, 2, 3, 1)


def param(array):
    return torch.tensor(numpy.ascontiguousarray(array), requires_grad=True)


def conv2d(x, kernel, bias, strides, padding):
    """x NCHW tensor, kernel a Keras-layout (kh, kw, in, out) tensor."""
    return TF.conv2d(pad_like_keras(x, kernel.shape[:2], strides, padding), kernel.permute(3, 2, 0, 1).contiguous(), bias,
                     stride=strides)


def depthwise_conv2d(x, kernel, bias, strides, padding):
    """Keras (kh, kw, C, M) -> PyTorch grouped conv weight (C*M, 1, kh, kw): output channel c*M + m."""
    kh, kw, c, m = kernel.shape
    weight = kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw).contiguous()
    return TF.conv2d(pad_like_keras(x, (kh, kw), strides, padding), weight, bias, stride=strides, groups=c)


def max_pool2d(x, pool, strides, padding):
    """Padding with -inf, so a padded pixel never wins (PyTorch's own padding is symmetric)."""
    return TF.max_pool2d(pad_like_keras(x, pool, strides, padding, value=-math.inf), pool, strides)


# -- shared by the float32 oracle tests ------------------------------------------------------
FLOAT32 = dict(rtol=2e-4, atol=2e-5)


def f32(seed, shape, scale=1.0, shift=0.0):
    return (numpy.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(numpy.float32)


def pair(array):
    return Tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def backprop_same(y, t_y, seed):
    grad = f32(seed + 99, y.shape)
    y.backward(grad)
    t_y.backward(torch.from_numpy(grad))
