"""Seedable sources of randomness for initialisers and dropout.

``minifer.random.seed(s)`` makes weight initialisation and dropout masks repeatable; a
layer or call may also pass its own ``numpy.random.Generator``. ``fit`` draws its dropout
masks from a generator of its own (``using``), so training never reseeds or advances the
global one: models built after a fit still start from fresh weights.
"""
import contextlib

import numpy

_generator = numpy.random.default_rng()


def seed(value):
    """Reset the global generator so that everything random after it repeats."""
    global _generator
    _generator = numpy.random.default_rng(value)


def generator():
    """The generator in use: the global one, or the one ``using`` put in place."""
    return _generator


@contextlib.contextmanager
def using(rng):
    """Inside this block ``generator()`` is ``rng``; the global generator is put back after."""
    global _generator
    previous, _generator = _generator, rng
    try:
        yield rng
    finally:
        _generator = previous
