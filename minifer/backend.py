"""The one place that knows NumPy from CuPy.

Op code asks ``get_xp(*arrays)`` for the array module of its inputs and never imports
NumPy or CuPy itself, so the same code runs on the CPU and on the GPU.
"""
import numpy

try:  # CuPy is optional: importing minifer never requires it.
    import cupy
except Exception:  # ImportError, or a CUDA library that fails to load
    cupy = None

DEFAULT_DTYPE = numpy.float32


def get_xp(*arrays):
    """Return ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return numpy


def to_numpy(array):
    """A NumPy copy (or view) of a NumPy or CuPy array."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return numpy.asarray(array)
