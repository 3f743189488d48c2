"""A float64 directional gradient check, in the manner of Chainer's ``check_backward``.

The scalar loss is a random projection <f(x), r> of the output, and each input is checked
along one random direction v: the central difference (L(x + eps v) - L(x - eps v)) / 2 eps
must equal <dL/dx, v>. Two forward passes per checked tensor, whatever its size, and a
wrong entry anywhere in a gradient changes <grad, v> almost surely.
"""
import numpy

from minifer import no_grad
from minifer.backend import to_numpy


def check_gradients(fn, tensors, seed=0, eps=1e-6, rtol=1e-5, atol=1e-6):
    """Check d<fn(), r>/d(t) for every Tensor ``t`` in ``tensors`` (float64, requires_grad).

    ``fn()`` takes no arguments and reads the tensors (inputs or a layer's weights), so the
    same check works for functions and for layers; the perturbation edits ``t.data`` in place.
    """
    rng = numpy.random.default_rng(seed)
    for t in tensors:
        assert t.dtype == numpy.float64, f"gradient checks run in float64, {t.name or 'a tensor'} is {t.dtype}"
        t.grad = None
    y = fn()
    r = rng.standard_normal(y.shape)
    (y * r).sum().backward()

    def loss():
        with no_grad():
            return float((to_numpy(fn().data) * r).sum())

    for index, t in enumerate(tensors):
        v = rng.standard_normal(t.shape)
        analytic = 0.0 if t.grad is None else float((to_numpy(t.grad) * v).sum())
        assert t.grad is None or t.grad.shape == t.shape, f"gradient of shape {t.grad.shape} for {t.shape}"
        original = t.data
        t.data = original + eps * v
        plus = loss()
        t.data = original - eps * v
        minus = loss()
        t.data = original
        numeric = (plus - minus) / (2 * eps)
        scale = max(abs(numeric), abs(analytic))
        assert abs(analytic - numeric) <= atol + rtol * scale, (
            f"tensor {index} ({t.name or tuple(t.shape)}): backward gives {analytic!r}, "
            f"central difference {numeric!r}")


def leaf(array, name=None):
    """A float64 Tensor that requires grad."""
    from minifer import Tensor
    return Tensor(numpy.asarray(array, dtype=numpy.float64), requires_grad=True, name=name)


def random(seed, shape, low=-1.0, high=1.0):
    return numpy.random.default_rng(seed).uniform(low, high, size=shape)


def check_layer(layer, x, seed, training=False, others=()):
    """Build ``layer`` on float64 ``x``, move its weights off their initial 0s and 1s, then check."""
    inputs = [x, *others]
    y = layer(inputs if others else x, training=training)
    assert all(w.dtype == numpy.float64 for w in layer.weights)
    for i, w in enumerate(layer.trainable_weights):
        w.data = w.data + random(seed + 10 + i, w.shape, 0.1, 0.5)
    reg = layer.losses

    def scalar_plus_losses():
        out = layer(inputs if others else x, training=training)
        return out + sum(layer.losses) if reg else out

    check_gradients(scalar_plus_losses, inputs + layer.trainable_weights, seed)
    return y
