"""Local response normalisation across channels (AlexNet's LRN, as ONNX and Caffe define it).

y_c = x_c / (bias + alpha / size * s_c) ** beta, where s_c sums x_i ** 2 over the channels i from
c - floor((size - 1) / 2) to c + ceil((size - 1) / 2) that exist. (PyTorch centres an even window
the other way round; for odd sizes the two agree.) The channel axis is the last, as in NHWC.
"""
from ..autograd import Function
from ..backend import get_xp


def window_sum(a, before, after):
    """Over the last axis: out_c = sum of a_i for c - before <= i <= c + after (zeros past the ends)."""
    out = a.copy()
    for k in range(1, before + 1):
        out[..., k:] += a[..., :-k]
    for k in range(1, after + 1):
        out[..., :-k] += a[..., k:]
    return out


class LocalResponseNormFunction(Function):
    def __init__(self, size, alpha, beta, bias):
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias
        self.before = (size - 1) // 2
        self.after = size - 1 - self.before

    def forward(self, x):
        self.x = x
        self.d = self.bias + (self.alpha / self.size) * window_sum(x * x, self.before, self.after)
        self.scale = get_xp(x).power(self.d, -self.beta)
        return x * self.scale

    def backward(self, g):
        # d y_c / d x_j = [c == j] d_c^-beta - 2 beta alpha / size * x_c x_j d_c^(-beta-1), for j in c's window
        spread = window_sum(g * self.x * self.scale / self.d, self.after, self.before)  # windows holding j
        return (g * self.scale - (2 * self.beta * self.alpha / self.size) * self.x * spread,)


def local_response_norm(x, size, alpha=1e-4, beta=0.75, bias=1.0):
    return LocalResponseNormFunction(size, alpha, beta, bias)(x)
