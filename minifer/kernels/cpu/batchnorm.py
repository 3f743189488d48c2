"""Batch normalisation over the last axis in blocked 1-D passes (``columns.py``).

Training normalises with the batch mean and the biased batch variance; backward recomputes the
centred input from the input, which the graph keeps anyway (a kept centred copy cost ARCH-1
180 MiB at batch 256). Every per-channel broadcast runs on flat blocks with tiled vectors and
every per-channel sum is a BLAS column sum, which is also more accurate in float32.
"""
from ...backend import get_xp
from .columns import add_parts, blocks, column_sum, over_blocks, tiled


def batch_norm_forward(x, gamma, beta, epsilon):
    """(y, batch mean, biased batch variance, saved for backward: the input itself, which the
    graph keeps anyway, and the statistics; no centred copy lives until backward)."""
    xp = get_xp(x)
    c = x.shape[-1]
    x1 = xp.ascontiguousarray(x).reshape(-1)
    count, spans = x1.size // c, blocks(x1.size, c)
    width = spans[0][1] - spans[0][0]
    pilot = column_sum(x1[:width].reshape(-1, c)) / (width // c)  # the first block's mean
    pilot_t = tiled(pilot, spans)

    def shifted_sums(part):  # the part's column sums of d = x - pilot and of d**2, in one read
        sums, tmp = xp.zeros((2, c), dtype=x.dtype), xp.empty(width, dtype=x.dtype)
        for a, b in part:
            d = xp.subtract(x1[a:b], pilot_t[:b - a], out=tmp[:b - a])
            sums[0] += column_sum(d.reshape(-1, c))
            sums[1] += column_sum(xp.square(d, out=d).reshape(-1, c))
        return sums

    # mean and variance from sums shifted by a pilot mean close to the true one, so the
    # subtraction below loses little (Chan, Golub & LeVeque's shifted data): one pass over x, not two
    shift_sum, square_sum = add_parts(over_blocks(shifted_sums, xp, spans)) / count
    mean = pilot + shift_sum
    var = xp.maximum(square_sum - shift_sum * shift_sum, 0)
    mean_t = tiled(mean, spans)
    inv_std = 1.0 / xp.sqrt(var + epsilon)
    scale, shift = tiled(inv_std * gamma, spans), tiled(beta, spans)
    y = xp.empty_like(x1)

    def normalise(part):  # (x - mean) * scale + beta: x * scale - mean * scale would cancel
        for a, b in part:
            n = b - a
            xp.subtract(x1[a:b], mean_t[:n], out=y[a:b])
            y[a:b] *= scale[:n]
            y[a:b] += shift[:n]

    over_blocks(normalise, xp, spans)
    return y.reshape(x.shape), mean, var, (x1, mean, inv_std)


def batch_norm_backward(g, saved, gamma):
    """(dx, dgamma, dbeta) of ``batch_norm_forward``; the centred input is recomputed a block at a
    time (in the cache) from the input it saved."""
    xp = get_xp(g)
    x1, mean, inv_std = saved
    c = g.shape[-1]
    g1 = xp.ascontiguousarray(g).reshape(-1)
    count, spans = g1.size // c, blocks(g1.size, c)
    width = spans[0][1] - spans[0][0]
    mean_t = tiled(mean, spans)

    def sums(part):  # the part's column sums of g and of g * (x - mean)
        sg, sgx, tmp = xp.zeros(c, dtype=g.dtype), xp.zeros(c, dtype=g.dtype), xp.empty(width, dtype=g.dtype)
        for a, b in part:
            sg += column_sum(g1[a:b].reshape(-1, c))
            xc = xp.subtract(x1[a:b], mean_t[:b - a], out=tmp[:b - a])
            sgx += column_sum(xp.multiply(g1[a:b], xc, out=xc).reshape(-1, c))
        return xp.stack([sg, sgx])

    dbeta, gxc = add_parts(over_blocks(sums, xp, spans))
    dgamma = gxc * inv_std
    scale = gamma * inv_std
    # dx = scale * g - (x - mean) * (scale * inv_std * dgamma / count) - scale * dbeta / count
    gain = tiled(scale, spans)
    slope = tiled(scale * inv_std * dgamma / count, spans)
    shift = tiled(scale * dbeta / count, spans)
    dx = xp.empty_like(g1)

    def grad(part):
        tmp = xp.empty(width, dtype=g.dtype)
        for a, b in part:
            n = b - a
            xc = xp.subtract(x1[a:b], mean_t[:n], out=tmp[:n])
            xp.multiply(g1[a:b], gain[:n], out=dx[a:b])
            dx[a:b] -= xp.multiply(xc, slope[:n], out=xc)
            dx[a:b] -= shift[:n]

    over_blocks(grad, xp, spans)
    return dx.reshape(g.shape), dgamma, dbeta


def channel_affine(x, scale, shift):
    """x * scale + shift per channel (inference-mode batch normalisation)."""
    xp = get_xp(x)
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
