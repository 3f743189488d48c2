"""Padding, concatenation, spatial dropout and rescaling: the shape-level ops of Keras's FER models,
and the padding modes of ONNX and PyTorch."""
import itertools

import numpy

from ..autograd import Function, as_tensor
from ..backend import get_xp
from ..kernels import kernels_for
from ..kernels.windows import unpad_nhwc
from .core import dropout
from .resize import ResampleFunction

PAD_MODES = ("constant", "reflect", "edge", "wrap")


class ConstantPad2DFunction(Function):
    def __init__(self, pads, value=0):
        self.pads, self.value = pads, value  # ((top, bottom), (left, right))

    def forward(self, x):
        return kernels_for(x).pad(x, self.pads, self.value)

    def backward(self, g):
        return (unpad_nhwc(g, self.pads),)


class ConcatenateFunction(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        return get_xp(*arrays).concatenate(arrays, axis=self.axis)

    def backward(self, g):
        return tuple(get_xp(g).split(g, list(itertools.accumulate(self.sizes[:-1])), axis=self.axis))


def zero_pad2d(x, pads):
    """Zeros around an NHWC image: ``pads`` is ((top, bottom), (left, right))."""
    return pad2d(x, pads)


def pad2d(x, pads, mode="constant", value=0.0):
    """An NHWC image padded by ``pads`` ((top, bottom), (left, right)): with ``value`` ("constant"),
    its mirror image without the edge row ("reflect"), the edge row repeated ("edge"), or the
    opposite side ("wrap"): NumPy's and ONNX's modes. The last three gather rows and columns."""
    pads = tuple(tuple(p) for p in pads)
    if mode == "constant":
        return ConstantPad2DFunction(pads, value)(x)
    if mode not in PAD_MODES:
        raise ValueError(f"padding mode must be one of {PAD_MODES}, got {mode!r}")
    for axis, (before, after) in zip((1, 2), pads):
        if before or after:
            index = numpy.pad(numpy.arange(x.shape[axis]), (before, after), mode=mode)
            x = ResampleFunction(axis, [(index, None)])(x)
    return x


def permute(x, dims):
    """The axes after the batch reordered: ``dims`` numbers them from 1, as Keras's Permute does."""
    return as_tensor(x).transpose((0, *dims))


def concatenate(tensors, axis=-1):
    return ConcatenateFunction(axis)(*tensors)


def spatial_dropout2d(x, rate, training=False, rng=None):
    """Dropout of whole channels (one draw per image and channel), scaled by 1/(1-rate) as dropout is."""
    return dropout(x, rate, training, rng, mask_shape=(x.shape[0], 1, 1, x.shape[-1]))


def rescale(x, scale, offset=0.0):
    """``x * scale + offset`` in x's dtype (Keras's Rescaling: 1/255 for pixels, 1/127.5 with -1 for [-1, 1])."""
    x = as_tensor(x)
    return x * x.dtype.type(scale) + x.dtype.type(offset)
