"""Resizing images along their spatial axes: nearest-neighbour and bilinear upsampling.

Along one axis, every output row is one input row (nearest) or a blend of two (linear), so
both are a gather of whole rows with a weight per output row: ``ResampleFunction``. Its
backward is the transposed map, applied as one matrix product per axis: a scatter-add with
no atomics and no ``add.at``, the same on NumPy and CuPy.
"""
import numpy

from ..autograd import Function
from ..backend import get_xp
from .geometry import as_pair

INTERPOLATIONS = ("nearest", "bilinear")


class ResampleFunction(Function):
    """y = sum over taps of ``weight * x.take(index, axis)``; ``taps`` is a list of (index, weight
    or None) NumPy arrays, one entry per output row along ``axis``."""

    def __init__(self, axis, taps):
        self.axis, self.taps = axis, taps

    def forward(self, x):
        xp = get_xp(x)
        self.in_size = x.shape[self.axis]
        y = None
        for index, weight in self.taps:
            part = x.take(xp.asarray(index), axis=self.axis)
            if weight is not None:
                part *= xp.asarray(self._along_axis(weight, x.ndim), dtype=x.dtype)
            y = part if y is None else xp.add(y, part, out=y)
        return y

    def _along_axis(self, vector, ndim):
        shape = [1] * ndim
        shape[self.axis] = len(vector)
        return vector.reshape(shape)

    def backward(self, g):
        xp = get_xp(g)
        out_size = len(self.taps[0][0])
        matrix = numpy.zeros((out_size, self.in_size))
        for index, weight in self.taps:
            numpy.add.at(matrix, (numpy.arange(out_size), index), 1.0 if weight is None else weight)
        moved = xp.moveaxis(g, self.axis, -1) @ xp.asarray(matrix, dtype=g.dtype)
        return (xp.ascontiguousarray(xp.moveaxis(moved, -1, self.axis)),)


def upsampling_taps(in_size, factor, interpolation):
    """The taps of one axis scaled up by the whole number ``factor``: nearest repeats each row;
    bilinear samples at half-pixel centres, (out + 0.5) / factor - 0.5, clamped to the edge rows
    (Keras's, TensorFlow's and PyTorch's ``align_corners=False``)."""
    out = numpy.arange(in_size * factor)
    if interpolation == "nearest":
        return [(out // factor, None)]
    source = numpy.maximum((out + 0.5) / factor - 0.5, 0.0)
    low = numpy.floor(source).astype(numpy.intp)
    high = numpy.minimum(low + 1, in_size - 1)
    frac = source - low
    return [(low, 1.0 - frac), (high, frac)]


def upsample2d(x, size=2, interpolation="nearest"):
    """NHWC images scaled up by whole factors ``size`` (an int or (rows, cols))."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    for axis, factor in zip((1, 2), as_pair(size, "size")):
        if factor != 1:
            x = ResampleFunction(axis, upsampling_taps(x.shape[axis], factor, interpolation))(x)
    return x
