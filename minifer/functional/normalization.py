"""Batch normalisation over the channel (last) axis, with Keras's moving statistics.

Training normalises with the batch mean and the biased batch variance and moves the
running statistics towards them: ``moving = moving * momentum + batch * (1 - momentum)``,
updating the moving variance with the *biased* variance as Keras does (PyTorch uses the
unbiased one). Inference uses the moving statistics and is a per-channel affine map.
"""
from ..backend import get_xp
from ..function import Function
from ..kernels.columns import add_parts, blocks, column_sum, over_blocks, tiled


class BatchNormTrain(Function):
    """BLAS column sums and blocked 1-D passes (``kernels/columns.py``): at ARCH-1's 48x48
    layers (batch 256) forward + backward went 138 -> 52 ms (C = 8) with in-place passes, and
    the float32 error against float64 from 1e-4 to 3e-6; ARCH-1's 12 batch norms in a training
    step 520 -> 190 ms with the blocks (instrumented step, loaded machine)."""

    def __init__(self, epsilon):
        self.epsilon = epsilon

    def forward(self, x, gamma, beta):
        xp = get_xp(x)
        c = x.shape[-1]
        x1 = xp.ascontiguousarray(x).reshape(-1)
        count, spans = x1.size // c, blocks(x1.size, c)
        self.mean = column_sum(x1.reshape(-1, c)) / count
        xc, y = xp.empty_like(x1), xp.empty_like(x1)
        mean = tiled(self.mean, spans)

        def center(part):  # xc = x - mean, and the part's column sums of xc**2
            var, tmp = xp.zeros(c, dtype=x.dtype), xp.empty(spans[0][1] - spans[0][0], dtype=x.dtype)
            for a, b in part:
                xp.subtract(x1[a:b], mean[:b - a], out=xc[a:b])
                var += column_sum(xp.square(xc[a:b], out=tmp[:b - a]).reshape(-1, c))
            return var

        self.var = add_parts(over_blocks(center, xp, spans)) / count
        self.inv_std = 1.0 / xp.sqrt(self.var + self.epsilon)
        scale, shift = tiled(self.inv_std * gamma, spans), tiled(beta, spans)

        def normalise(part):
            for a, b in part:
                xp.multiply(xc[a:b], scale[:b - a], out=y[a:b])
                y[a:b] += shift[:b - a]

        over_blocks(normalise, xp, spans)
        self.xc, self.gamma = xc, gamma
        return y.reshape(x.shape)

    def backward(self, g):
        xp = get_xp(g)
        c = g.shape[-1]
        g1 = xp.ascontiguousarray(g).reshape(-1)
        count, spans = g1.size // c, blocks(g1.size, c)
        width = spans[0][1] - spans[0][0]

        def sums(part):  # the part's column sums of g and of g * xc
            sg, sgx, tmp = xp.zeros(c, dtype=g.dtype), xp.zeros(c, dtype=g.dtype), xp.empty(width, dtype=g.dtype)
            for a, b in part:
                sg += column_sum(g1[a:b].reshape(-1, c))
                sgx += column_sum(xp.multiply(g1[a:b], self.xc[a:b], out=tmp[:b - a]).reshape(-1, c))
            return xp.stack([sg, sgx])

        dbeta, gxc = add_parts(over_blocks(sums, xp, spans))
        dgamma = gxc * self.inv_std
        scale = self.gamma * self.inv_std
        # dx = scale * g - xc * (scale * inv_std * dgamma / count) - scale * dbeta / count
        gain = tiled(scale, spans)
        slope = tiled(scale * self.inv_std * dgamma / count, spans)
        shift = tiled(scale * dbeta / count, spans)
        dx = xp.empty_like(g1)

        def grad(part):
            tmp = xp.empty(width, dtype=g.dtype)
            for a, b in part:
                n = b - a
                xp.multiply(g1[a:b], gain[:n], out=dx[a:b])
                dx[a:b] -= xp.multiply(self.xc[a:b], slope[:n], out=tmp[:n])
                dx[a:b] -= shift[:n]

        over_blocks(grad, xp, spans)
        return dx.reshape(g.shape), dgamma, dbeta


class Affine(Function):
    """y = x * scale + shift per channel; inference-mode batch normalisation (blocked 1-D passes)."""

    def forward(self, x, scale, shift):
        xp = get_xp(x)
        self.x = x if self.needs_grad[1] else None
        self.scale = scale
        x1 = xp.ascontiguousarray(x).reshape(-1)
        spans = blocks(x1.size, x.shape[-1])
        gain, offset = tiled(scale, spans), tiled(shift, spans)
        y = xp.empty_like(x1)

        def affine(part):
            for a, b in part:
                xp.multiply(x1[a:b], gain[:b - a], out=y[a:b])
                y[a:b] += offset[:b - a]

        over_blocks(affine, xp, spans)
        return y.reshape(x.shape)

    def backward(self, g):
        g2 = g.reshape(-1, g.shape[-1])
        dx = g * self.scale if self.needs_grad[0] else None
        dscale = column_sum(g2 * self.x.reshape(g2.shape)) if self.needs_grad[1] else None
        return dx, dscale, column_sum(g2)


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
