"""Batch normalisation over the channel (last) axis, with Keras's moving statistics.

Training normalises with the batch mean and the biased batch variance and moves the
running statistics towards them: ``moving = moving * momentum + batch * (1 - momentum)``,
updating the moving variance with the *biased* variance as Keras does (PyTorch uses the
unbiased one). Inference uses the moving statistics and is a per-channel affine map.

``population_statistics()`` is what Keras lacks: inside it, training-mode batch norms leave
their moving statistics alone and sum every channel's values instead; on leaving it, each
moving mean and variance becomes the exact mean and (biased) variance of everything it saw,
computed with the current weights ("precise BN", Wu & Johnson 2021). ``fit`` uses it so that a
short run does not end with statistics that lag far behind the weights. The block holds on its
own thread only: another thread's model trains and predicts as usual meanwhile.
"""
import contextlib
import threading

import numpy

from ..autograd import Function
from ..backend import get_xp, to_numpy
from ..kernels import kernels_for


class BatchNormTrainFunction(Function):
    def __init__(self, epsilon):
        self.epsilon = epsilon

    def forward(self, x, gamma, beta):
        y, self.mean, self.var, self.saved = kernels_for(x).batch_norm_forward(x, gamma, beta, self.epsilon)
        self.gamma = gamma
        return y

    def backward(self, g):
        return kernels_for(g).batch_norm_backward(g, self.saved, self.gamma)


class ChannelAffineFunction(Function):
    """y = x * scale + shift per channel: inference-mode batch normalisation."""

    def forward(self, x, scale, shift):
        self.x = x if self.needs_grad[1] else None
        self.scale = scale
        return kernels_for(x).channel_affine(x, scale, shift)

    def backward(self, g):
        k = kernels_for(g)
        g2 = g.reshape(-1, g.shape[-1])
        dx = g * self.scale if self.needs_grad[0] else None
        dscale = k.channel_sum(g2 * self.x.reshape(g2.shape)) if self.needs_grad[1] else None
        return dx, dscale, k.channel_sum(g2)


def batch_norm(x, gamma, beta, moving_mean, moving_variance, training=False,
               momentum=0.99, epsilon=1e-3):
    """Normalise NHWC (or NC) ``x`` per channel; in training, update the moving Tensors in place."""
    if not training:
        xp = get_xp(moving_variance.data)
        inv_std = 1.0 / xp.sqrt(moving_variance.data + epsilon)
        scale = gamma * inv_std
        return ChannelAffineFunction()(x, scale, beta - moving_mean.data * scale)
    fn = BatchNormTrainFunction(epsilon)
    y = fn(x, gamma, beta)
    sums = getattr(_local, "sums", None)
    if sums is not None:
        _add_to_sums(sums, moving_mean, moving_variance, fn.mean, fn.var, x.size // x.shape[-1])
        return y
    moving_mean.data = moving_mean.data * momentum + fn.mean * (1 - momentum)
    moving_variance.data = moving_variance.data * momentum + fn.var * (1 - momentum)
    return y


_local = threading.local()  # .sums, while population_statistics() runs on this thread:
# {id(moving_mean): [moving mean, moving variance, count, sum, sum of squares]}


def _add_to_sums(sums, moving_mean, moving_variance, mean, var, count):
    entry = sums.setdefault(id(moving_mean), [moving_mean, moving_variance, 0, 0.0, 0.0])
    mean = numpy.asarray(to_numpy(mean), dtype=numpy.float64)
    entry[2] += count
    entry[3] = entry[3] + mean * count
    entry[4] = entry[4] + (numpy.asarray(to_numpy(var), dtype=numpy.float64) + mean * mean) * count


@contextlib.contextmanager
def population_statistics(statistics=(), reduce=None):
    """Training-mode batch norms inside the block collect their inputs' exact per-channel mean and
    variance (in float64) instead of moving; the moving statistics are set to them on leaving.

    ``reduce`` sums what several processes collected (their images together are the population):
    it is given one float64 vector of every (count, sums, sums of squares) and returns the total.
    Every process then needs the same entries in the same order: ``statistics`` lists the
    (moving mean, moving variance) pairs up front, so a process that saw no image still takes part."""
    previous, _local.sums = getattr(_local, "sums", None), {}
    for moving_mean, moving_variance in statistics:
        c = moving_mean.shape[-1]
        _local.sums[id(moving_mean)] = [moving_mean, moving_variance, 0, numpy.zeros(c), numpy.zeros(c)]
    try:
        yield
        entries = list(_local.sums.values())
        if reduce is not None and entries:
            _reduced(entries, reduce)
        for moving_mean, moving_variance, count, total, squares in entries:
            if count:
                mean = total / count
                moving_mean.assign(mean)
                moving_variance.assign(numpy.maximum(squares / count - mean * mean, 0.0))
    finally:
        _local.sums = previous


def _reduced(entries, reduce):
    """``entries`` with their counts and sums replaced by ``reduce``'s totals, in one call."""
    flat = reduce(numpy.concatenate([numpy.concatenate([[e[2]], e[3], e[4]]).astype(numpy.float64)
                                     for e in entries]))
    offset = 0
    for e in entries:
        c = len(e[3])
        e[2], e[3], e[4] = flat[offset], flat[offset + 1:offset + 1 + c], flat[offset + 1 + c:offset + 1 + 2 * c]
        offset += 1 + 2 * c
