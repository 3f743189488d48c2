"""One inference step per layer call: the layer's forward on raw arrays, for ``InferencePlan``.

A step is ``run(arrays, consumable) -> (array, fresh)``. It calls the kernel set of its input
(``minifer.kernels``) with the layer's weights and geometry fixed at compile time, so a
prediction pays no Tensor, Function, shape check or padding-argument parsing per layer, and
the activation runs in place on the array the step just made. ``consumable`` says the input was
made by an earlier step and nothing else reads it: ReLU and Add then write into it. ``fresh``
says the output is such an array (a view of the input is fresh only if the input was consumable);
a step whose output is not fresh may hold a view of its input, which then stops being consumable.
Layers without a step here run through their own ``call`` on Tensors (``layer_step``).
"""
from ..autograd import Tensor, no_grad
from ..backend import get_xp
from ..functional.geometry import window_geometry
from ..kernels import kernels_for
from ..kernels.cpu.parallel import running_threads


def _softmax(y):
    xp = get_xp(y)
    y -= y.max(axis=-1, keepdims=True)
    xp.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)
    return y


def _activation(layer):
    """The layer's activation, applied in place to an array the step owns."""
    name = getattr(layer, "activation", None)
    if name in (None, "linear"):
        return lambda y: y
    if name == "relu":
        return lambda y: get_xp(y).maximum(y, 0, out=y)
    if name == "softmax":
        return _softmax
    return lambda y: layer._activation(Tensor(y)).data  # any other activation, through its own function


def _windowed(layer, kernel, run):
    """A step for a sliding-window layer: ``run(k, x, pads, out_hw)`` with the geometry
    worked out once per input shape."""
    geometry = {}
    act = _activation(layer)

    def step(args, consumable):
        x = args[0]
        if x.shape not in geometry:
            geometry[x.shape] = window_geometry(x.shape[1:3], kernel, layer.strides, layer.padding)
        return act(run(kernels_for(x), x, *geometry[x.shape])), True
    return step


def conv_step(layer, kernel, bias):
    paths = {}  # by input shape and how many threads run kernels at once (the choice depends on both)

    def run(k, x, pads, out_hw):
        key = (x.shape, running_threads())
        if key not in paths:
            paths[key] = k.conv2d_path(x.shape, kernel.shape[:2], layer.strides)
        return k.conv2d_forward(x, kernel, bias, layer.strides, pads, out_hw, paths[key])[0]
    return _windowed(layer, kernel.shape[:2], run)


def depthwise_step(layer, kernel, bias):
    def run(k, x, pads, out_hw):
        return k.depthwise_forward(x, kernel, bias, layer.strides, pads, out_hw)[0]
    return _windowed(layer, kernel.shape[:2], run)


def separable_step(layer, depthwise, pointwise, bias):
    def run(k, x, pads, out_hw):
        y = k.depthwise_forward(x, depthwise, None, layer.strides, pads, out_hw)[0]
        return k.conv2d_forward(y, pointwise, bias, (1, 1), ((0, 0), (0, 0)), out_hw, "gemm")[0]
    return _windowed(layer, depthwise.shape[:2], run)


def max_pool_step(layer):
    def run(k, x, pads, out_hw):
        return k.max_pool_forward(x, layer.pool_size, layer.strides, pads, out_hw, False)[0]
    return _windowed(layer, layer.pool_size, run)


def dense_step(layer, kernel, bias):
    act = _activation(layer)

    def step(args, consumable):
        y = args[0] @ kernel
        if bias is not None:
            y += bias
        return act(y), True
    return step


def affine_step(scale, shift):
    """An unfolded BatchNormalization: x * scale + shift per channel."""
    return lambda args, consumable: (kernels_for(args[0]).channel_affine(args[0], scale, shift), True)


def relu_step(args, consumable):
    x = args[0]
    return get_xp(x).maximum(x, 0, out=x if consumable else None), True


def add_step(args, consumable):
    total = args[0] if consumable else args[0].copy()
    for x in args[1:]:
        total += x
    return total, True


def global_average_step(args, consumable):
    x = args[0]
    return x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1), True


def flatten_step(args, consumable):
    return args[0].reshape(args[0].shape[0], -1), consumable


def identity_step(args, consumable):
    """Inference-mode Dropout, and a BatchNormalization folded into the layer before it."""
    return args[0], consumable


def softmax_step(layer):
    """A Softmax layer, or Activation("softmax") (over the last axis)."""
    if getattr(layer, "axis", -1) != -1:
        return layer_step(layer, single=True)
    return lambda args, consumable: (_softmax(args[0] if consumable else args[0].copy()), True)


def layer_step(layer, single):
    """Any other layer: its own ``call`` on Tensors, without a graph (``single``: it takes one input)."""
    def step(args, consumable):
        with no_grad():
            out = layer(Tensor(args[0]) if single else [Tensor(a) for a in args], training=False)
        return ([o.data for o in out] if isinstance(out, list) else out.data), False
    return step
