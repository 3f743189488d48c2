"""One seedable source of randomness for initialisers and dropout.

``minifer.random.seed(s)`` makes weight initialisation and dropout masks repeatable;
a layer or call may also pass its own ``numpy.random.Generator``.
"""
import numpy

_generator = numpy.random.default_rng()


def seed(value):
    """Reset the global generator so that everything random after it repeats."""
    global _generator
    _generator = numpy.random.default_rng(value)


def generator():
    """The global ``numpy.random.Generator``."""
    return _generator


def get_state():
    """The global generator's state as a JSON-able dict (for checkpoints)."""
    return _generator.bit_generator.state


def set_state(state):
    _generator.bit_generator.state = state
