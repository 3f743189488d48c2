"""Zero padding, concatenation, spatial dropout and rescaling: the shape-level ops of Keras's FER models."""
from .. import random
from ..autograd import Function, as_tensor
from ..backend import get_xp


class ZeroPad2DFunction(Function):
    def __init__(self, pads):
        self.pads = pads  # ((top, bottom), (left, right))

    def forward(self, x):
        return get_xp(x).pad(x, ((0, 0), *self.pads, (0, 0)))

    def backward(self, g):
        (top, bottom), (left, right) = self.pads
        return (g[:, top:g.shape[1] - bottom, left:g.shape[2] - right, :],)


class ConcatenateFunction(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        return get_xp(*arrays).concatenate(arrays, axis=self.axis)

    def backward(self, g):
        xp = get_xp(g)
        cuts = list(xp.cumsum(xp.asarray(self.sizes))[:-1].tolist()) if len(self.sizes) > 1 else []
        return tuple(xp.split(g, cuts, axis=self.axis))


def zero_pad2d(x, pads):
    """Zeros around an NHWC image: ``pads`` is ((top, bottom), (left, right))."""
    return ZeroPad2DFunction(tuple(tuple(p) for p in pads))(x)


def concatenate(tensors, axis=-1):
    return ConcatenateFunction(axis)(*tensors)


def spatial_dropout2d(x, rate, training=False, rng=None):
    """Dropout of whole channels (one draw per image and channel), scaled by 1/(1-rate) as dropout is."""
    if not training or rate == 0:
        return x
    x = as_tensor(x)
    xp = get_xp(x.data)
    rng = rng or random.generator()
    keep = rng.random((x.shape[0], 1, 1, x.shape[-1]), dtype="float32") >= rate
    return x * (xp.asarray(keep, dtype=x.dtype) * x.dtype.type(1.0 / (1.0 - rate)))


def rescale(x, scale, offset=0.0):
    """``x * scale + offset`` in x's dtype (Keras's Rescaling: 1/255 for pixels, 1/127.5 with -1 for [-1, 1])."""
    x = as_tensor(x)
    return x * x.dtype.type(scale) + x.dtype.type(offset)
