"""Batch normalisation over the channel (last) axis, with Keras's moving statistics.

Training normalises with the batch mean and the biased batch variance and moves the
running statistics towards them: ``moving = moving * momentum + batch * (1 - momentum)``,
updating the moving variance with the *biased* variance as Keras does (PyTorch uses the
unbiased one). Inference uses the moving statistics and is a per-channel affine map.
"""
from ..backend import get_xp
from ..function import Function


class BatchNormTrain(Function):
    def __init__(self, epsilon):
        self.epsilon = epsilon

    def forward(self, x, gamma, beta):
        xp = get_xp(x)
        x2 = x.reshape(-1, x.shape[-1])
        self.mean = x2.mean(axis=0)
        xc = x2 - self.mean
        self.var = xp.square(xc).mean(axis=0)
        self.inv_std = 1.0 / xp.sqrt(self.var + self.epsilon)
        self.xc, self.gamma = xc, gamma
        return (xc * (self.inv_std * gamma) + beta).reshape(x.shape)

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])
        count = g2.shape[0]
        dbeta = g2.sum(axis=0)
        dgamma = (g2 * self.xc).sum(axis=0) * self.inv_std
        scale = self.gamma * self.inv_std
        dx = g2 * scale - (self.xc * (scale * self.inv_std * dgamma / count) + scale * dbeta / count)
        return dx.reshape(g.shape), dgamma, dbeta


class Affine(Function):
    """y = x * scale + shift per channel; inference-mode batch normalisation."""

    def forward(self, x, scale, shift):
        self.x = x if self.needs_grad[1] else None
        self.scale = scale
        return x * scale + shift

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])
        dx = g * self.scale if self.needs_grad[0] else None
        dscale = (g2 * self.x.reshape(g2.shape)).sum(axis=0) if self.needs_grad[1] else None
        return dx, dscale, g2.sum(axis=0)


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training=False,
               momentum=0.99, epsilon=1e-3):
    """Normalise NHWC (or NC) ``x`` per channel; in training, update the moving Tensors in place."""
    if not training:
        xp = get_xp(moving_variance.data)
        inv_std = 1.0 / xp.sqrt(moving_variance.data + epsilon)
        scale = gamma * inv_std
        return Affine()(x, scale, beta - moving_mean.data * scale)
    fn = BatchNormTrain(epsilon)
    y = fn(x, gamma, beta)
    moving_mean.data = moving_mean.data * momentum + fn.mean * (1 - momentum)
    moving_variance.data = moving_variance.data * momentum + fn.var * (1 - momentum)
    return y
