"""Zero padding, concatenation, spatial dropout and rescaling: the shape-level ops of Keras's FER models."""
import itertools

from ..autograd import Function, as_tensor
from ..backend import get_xp
from ..kernels import kernels_for
from ..kernels.windows import unpad_nhwc
from .core import dropout


class ZeroPad2DFunction(Function):
    def __init__(self, pads):
        self.pads = pads  # ((top, bottom), (left, right))

    def forward(self, x):
        return kernels_for(x).pad(x, self.pads)

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
    return ZeroPad2DFunction(tuple(tuple(p) for p in pads))(x)


def concatenate(tensors, axis=-1):
    return ConcatenateFunction(axis)(*tensors)


def spatial_dropout2d(x, rate, training=False, rng=None):
    """Dropout of whole channels (one draw per image and channel), scaled by 1/(1-rate) as dropout is."""
    return dropout(x, rate, training, rng, mask_shape=(x.shape[0], 1, 1, x.shape[-1]))


def rescale(x, scale, offset=0.0):
    """``x * scale + offset`` in x's dtype (Keras's Rescaling: 1/255 for pixels, 1/127.5 with -1 for [-1, 1])."""
    x = as_tensor(x)
    return x * x.dtype.type(scale) + x.dtype.type(offset)
