"""The pieces layers build their inference steps from: ``predict``'s forward on raw arrays.

A step is ``step(arrays, consumable) -> (array, fresh)``. It calls the kernel set of its input
(``minifer.kernels``) with the layer's weights fixed when the step is made, so a prediction pays
no Tensor, Function, shape check or argument parsing per layer, and an activation runs in place
on the array the step just made. ``consumable`` says the input was made by an earlier step and
nothing else reads it: a step may then write into it. ``fresh`` says the output is such an array
(a view of the input is fresh only if the input was consumable); a step whose output is not
fresh may hold a view of its input, which then stops being consumable.

Every layer has a step (``Layer.inference_step``): by default ``call_step``, its own ``call`` on
Tensors, so a layer's arguments can never be ignored by ``predict``; a layer with a faster step
(the convolutions, Dense, BatchNormalization, the cheap elementwise ones) builds it here.
"""
import numpy

from ..autograd import Tensor, no_grad
from ..backend import get_xp
from ..functional.geometry import window_geometry
from ..kernels import kernels_for


def call_step(layer, listed):
    """Any layer: its own ``call`` on Tensors, without a graph (``listed``: it takes a list)."""
    def step(args, consumable):
        with no_grad():
            out = layer([Tensor(a) for a in args] if listed else Tensor(args[0]), training=False)
        return ([o.data for o in out] if isinstance(out, list) else out.data), False
    return step


def identity_step(args, consumable):
    """Inference-mode dropout, and a layer folded into the one before it."""
    return args[0], consumable


def array_step(fn, in_place=False):
    """A step of ``fn(array) -> array``; ``in_place``: fn writes into its argument, so it gets a
    copy unless the input is consumable."""
    def step(args, consumable):
        x = args[0]
        return fn(x if consumable or not in_place else x.copy()), True
    return step


def windowed(strides, padding, window, run, activation, ceil_mode=False):
    """A step for a sliding-window layer: ``activation(run(kernels, x, pads, out_hw))`` with the
    window geometry worked out once per input shape."""
    geometry = {}

    def step(args, consumable):
        x = args[0]
        if x.shape not in geometry:
            geometry[x.shape] = window_geometry(x.shape[1:3], window, strides, padding, ceil_mode=ceil_mode)
        return activation(run(kernels_for(x), x, *geometry[x.shape])), True
    return step


def relu_in_place(y):
    return get_xp(y).maximum(y, 0, out=y)


def leaky_relu_in_place(slope, piece=16384):
    """``y -> y`` with its negative values times ``slope`` (from 0 to 1: the larger of y and slope * y),
    a cache-sized piece at a time so the product never leaves the cache."""
    def leaky(y):
        xp = get_xp(y)
        if not y.flags.c_contiguous:  # a view in another order: one pass over the whole array
            return xp.maximum(y, y * slope, out=y)
        flat = y.reshape(-1)
        tmp = xp.empty(min(piece, flat.size), dtype=y.dtype)
        for start in range(0, flat.size, piece):
            part = flat[start:start + piece]
            xp.maximum(part, xp.multiply(part, slope, out=tmp[:part.size]), out=part)
        return y
    return leaky


def softmax_in_place(y):
    """Softmax over the last axis, written into ``y``."""
    xp = get_xp(y)
    y -= y.max(axis=-1, keepdims=True)
    xp.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)
    return y


def affine_folded(weights, use_bias, scale, shift, channel_axes=1):
    """``weights`` (kernels, then a bias if ``use_bias``) of a layer whose last kernel's trailing
    ``channel_axes`` axes index its outputs, with ``y * scale + shift`` per output folded in: the
    last kernel scaled, and a bias; computed in float64, returned in the weights' dtype."""
    kernels = list(weights[:-1] if use_bias else weights)
    dtype = kernels[-1].dtype
    last = numpy.asarray(kernels[-1], numpy.float64)
    per_channel = scale.reshape(last.shape[-channel_axes:])
    bias = numpy.asarray(weights[-1], numpy.float64) if use_bias else 0.0
    return kernels[:-1] + [(last * per_channel).astype(dtype), (bias * scale + shift).astype(dtype)]
