"""Elementwise activations with Keras's meanings: ReLU (and Keras's capped, thresholded and leaky
forms), sigmoid, tanh, ELU, SELU, softplus, swish, GELU, hard sigmoid and hard swish, leaky and
parametric ReLU.

Primitives with a hand-written backward are the ones that need it for speed or stability
(ReLU, sigmoid, tanh, ELU, softplus, GELU); the rest are compositions of them, so their
gradients come for free and need no formula of their own to get wrong.
"""
import math

from ..autograd import Function, as_tensor
from ..backend import get_xp
from ..kernels import kernels_for
from .core import clip

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Klambauer et al. 2017, as in Keras


class ReLUFunction(Function):
    def forward(self, x):
        y, self.saved = kernels_for(x).relu_forward(x, keep_input=self.needs_grad[0])
        return y

    def backward(self, g):
        return (kernels_for(g).relu_backward(g, self.saved),)


class SigmoidFunction(Function):
    def forward(self, x):
        self.y = 0.5 * (1 + get_xp(x).tanh(0.5 * x))  # no overflow of exp(-x) for very negative x
        return self.y

    def backward(self, g):
        return (g * self.y * (1 - self.y),)


class TanhFunction(Function):
    def forward(self, x):
        self.y = get_xp(x).tanh(x)
        return self.y

    def backward(self, g):
        return (g * (1 - self.y * self.y),)


class EluFunction(Function):
    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = get_xp(x)
        self.positive = x > 0
        self.y = xp.where(self.positive, x, self.alpha * xp.expm1(xp.minimum(x, 0)))
        return self.y

    def backward(self, g):
        # d/dx alpha * (exp(x) - 1) = y + alpha below zero
        return (g * get_xp(g).where(self.positive, 1, self.y + self.alpha).astype(g.dtype),)


class SoftplusFunction(Function):
    def forward(self, x):
        xp = get_xp(x)
        self.x = x
        return xp.logaddexp(0, x)

    def backward(self, g):
        return (g * (0.5 * (1 + get_xp(g).tanh(0.5 * self.x))),)


class GeluFunction(Function):
    """x * Phi(x) (Keras's default), or its tanh approximation with ``approximate=True``."""

    def __init__(self, approximate):
        self.approximate = approximate

    def forward(self, x):
        xp = get_xp(x)
        self.x = x
        if self.approximate:
            self.t = xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + _erf(xp)(x / math.sqrt(2)))
        return x * self.cdf

    def backward(self, g):
        x, xp = self.x, get_xp(g)
        if self.approximate:
            dt = (1 - self.t ** 2) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x ** 2)
            return (g * (0.5 * (1 + self.t) + 0.5 * x * dt),)
        return (g * (self.cdf + x * xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)),)


def _erf(xp):
    """SciPy's erf for NumPy arrays, CuPy's for CuPy arrays (NumPy has none)."""
    if xp.__name__ == "numpy":
        from scipy.special import erf
    else:
        from cupyx.scipy.special import erf
    return erf


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's ``activations.relu``: x above ``threshold``, else ``negative_slope * (x - threshold)``,
    capped at ``max_value``; the plain max(x, 0) by default, through its kernel."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ReLUFunction()(x)
    x = as_tensor(x)
    xp = get_xp(x.data)
    y = x * xp.asarray(x.data > threshold, dtype=x.dtype)  # Keras keeps x itself above the threshold
    if max_value is not None:
        y = clip(y, 0, max_value)
    return y - relu(threshold - x) * negative_slope if negative_slope else y


def sigmoid(x):
    return SigmoidFunction()(x)


def tanh(x):
    return TanhFunction()(x)


def elu(x, alpha=1.0):
    return EluFunction(alpha)(x)


def selu(x):
    return elu(x, SELU_ALPHA) * SELU_SCALE


def softplus(x):
    return SoftplusFunction()(x)


def swish(x):
    x = as_tensor(x)
    return x * sigmoid(x)


def gelu(x, approximate=False):
    return GeluFunction(approximate)(x)


def hard_sigmoid(x):
    """Keras 3's (and PyTorch's) piecewise-linear sigmoid, ReLU6(x + 3) / 6: 0 below -3, 1 above 3.
    (Keras 2's was clip(0.2 x + 0.5, 0, 1).)"""
    x = as_tensor(x)
    return clip(x * x.dtype.type(1 / 6) + x.dtype.type(0.5), 0, 1)


def hard_swish(x):
    """x * hard_sigmoid(x) (Keras 3's hard_silu, MobileNetV3's h-swish)."""
    x = as_tensor(x)
    return x * hard_sigmoid(x)


def leaky_relu(x, negative_slope=0.2):
    """x above zero, ``negative_slope * x`` below: a fixed ``prelu``. The default is Keras's
    ``activations.leaky_relu`` (0.2); the LeakyReLU layer passes its own (Keras's 0.3)."""
    return prelu(x, negative_slope)


def prelu(x, alpha):
    """Leaky ReLU with a learned slope ``alpha`` that broadcasts against x's trailing axes."""
    x = as_tensor(x)
    return relu(x) - relu(-x) * alpha
