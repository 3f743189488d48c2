"""The one place that knows NumPy from CuPy.

Op code asks ``get_xp(*arrays)`` for the array module of its inputs and never imports
NumPy or CuPy itself, so the same code runs on the CPU and on the GPU. Importing minifer
never imports CuPy: a CuPy array can only exist once its user has imported CuPy.
"""
import sys

import numpy

DEFAULT_DTYPE = numpy.float32


def _cupy():
    return sys.modules.get("cupy")


def get_xp(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    cupy = _cupy()
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


def to_numpy(array):
    """A NumPy copy (or view) of a NumPy or CuPy array."""
    cupy = _cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return numpy.asarray(array)
