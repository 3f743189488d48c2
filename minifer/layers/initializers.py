"""Weight initialisers with Keras's names and fan conventions.

A convolution kernel (kh, kw, in, out) has fan_in = kh*kw*in and fan_out = kh*kw*out,
so a depthwise kernel (kh, kw, in, multiplier) gets fan_out = kh*kw*multiplier, as in Keras.
Every initialiser draws from a ``numpy.random.Generator`` (the global one by default).
"""
import numpy

from .. import random


def compute_fans(shape):
    if len(shape) < 2:
        n = shape[0] if shape else 1
        return n, n
    receptive = int(numpy.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def glorot_uniform(shape, dtype, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = numpy.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_normal(shape, dtype, rng):
    fan_in, fan_out = compute_fans(shape)
    return _truncated_normal(shape, numpy.sqrt(2.0 / (fan_in + fan_out)), rng).astype(dtype)


def he_normal(shape, dtype, rng):
    return _truncated_normal(shape, numpy.sqrt(2.0 / compute_fans(shape)[0]), rng).astype(dtype)


def he_uniform(shape, dtype, rng):
    limit = numpy.sqrt(6.0 / compute_fans(shape)[0])
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def zeros(shape, dtype, rng):
    return numpy.zeros(shape, dtype=dtype)


def ones(shape, dtype, rng):
    return numpy.ones(shape, dtype=dtype)


def _truncated_normal(shape, stddev, rng):
    """Keras's truncated normal: redraw values beyond two standard deviations."""
    stddev = stddev / 0.87962566103423978  # std of a unit normal truncated at +-2
    values = rng.normal(0.0, stddev, size=shape)
    bad = numpy.abs(values) > 2 * stddev
    while bad.any():
        values[bad] = rng.normal(0.0, stddev, size=int(bad.sum()))
        bad = numpy.abs(values) > 2 * stddev
    return values


_BY_NAME = {f.__name__: f for f in (glorot_uniform, glorot_normal, he_normal, he_uniform, zeros, ones)}


def get(identifier):
    """An initialiser from its Keras name or a callable(shape, dtype, rng)."""
    if callable(identifier):
        return identifier
    try:
        return _BY_NAME[identifier]
    except KeyError:
        raise ValueError(f"unknown initializer {identifier!r}; known: {sorted(_BY_NAME)}") from None


def make(identifier, shape, dtype, rng=None):
    return get(identifier)(tuple(shape), dtype, rng or random.generator())
