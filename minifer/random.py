"""Seedable sources of randomness for initialisers and dropout.

``minifer.random.seed(s)`` makes weight initialisation and dropout masks repeatable; a
layer or call may also pass its own ``numpy.random.Generator``. ``fit`` draws its dropout
masks from a generator of its own (``using``), so training never reseeds or advances the
global one: models built after a fit still start from fresh weights. ``using`` holds on its
own thread only, so two models trained in two threads each draw from their own generator.
"""
import contextlib
import threading

import numpy

_global = [numpy.random.default_rng()]
_local = threading.local()  # .generator: the one ``using`` put in place on this thread


def seed(value):
    """Reset the global generator so that everything random after it repeats."""
    _global[0] = numpy.random.default_rng(value)


def generator():
    """The generator in use on this thread: the one ``using`` put in place, else the global one."""
    return getattr(_local, "generator", None) or _global[0]


@contextlib.contextmanager
def using(rng):
    """Inside this block, on this thread, ``generator()`` is ``rng``; what it was is put back after."""
    previous, _local.generator = getattr(_local, "generator", None), rng
    try:
        yield rng
    finally:
        _local.generator = previous
