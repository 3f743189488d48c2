"""Batch normalisation, dense, softmax and cross-entropy against PyTorch on the CPU (float32)."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

torch = pytest.importorskip("torch")
TF = torch.nn.functional

from minifer import Tensor  # noqa: E402
from minifer import functional as F  # noqa: E402
from minifer import layers as L  # noqa: E402
from torch_reference import FLOAT32, backprop_same, f32, pair  # noqa: E402

seeds = st.integers(0, 2 ** 32 - 1)


@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.integers(1, 6), seeds)
def test_batch_norm_training_step(n, h, w, c, seed):
    """Keras momentum 0.99 is PyTorch momentum 0.01. Keras moves the variance towards the
    BIASED batch variance, PyTorch towards the unbiased one: the expectation converts."""
    assume(n * h * w >= 2)  # PyTorch refuses one value per channel in training (minifer trains, as Keras does)
    x = f32(seed, (n, h, w, c), scale=2.0, shift=0.5)
    layer = L.BatchNormalization()
    mx = Tensor(x, requires_grad=True)
    layer(mx)  # build
    gamma, beta, mean0, var0 = f32(seed + 1, (c,), 0.3, 1.0), f32(seed + 2, (c,)), f32(seed + 3, (c,)), \
        numpy.abs(f32(seed + 4, (c,))) + 0.5
    layer.set_weights([gamma, beta, mean0, var0])
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x.transpose(0, 3, 1, 2).copy(), gamma, beta))
    running_mean, running_var = torch.tensor(mean0), torch.tensor(var0)

    y = layer(mx, training=True)
    t_y = TF.batch_norm(tx, running_mean, running_var, tg, tb, training=True, momentum=0.01, eps=1e-3)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy().transpose(0, 2, 3, 1), **FLOAT32)

    grad = f32(seed + 99, y.shape)
    y.backward(grad)
    t_y.backward(torch.from_numpy(grad.transpose(0, 3, 1, 2).copy()))
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy().transpose(0, 2, 3, 1), **FLOAT32)
    numpy.testing.assert_allclose(layer.gamma.grad, tg.grad.numpy(), **FLOAT32)
    numpy.testing.assert_allclose(layer.beta.grad, tb.grad.numpy(), **FLOAT32)

    m = n * h * w
    numpy.testing.assert_allclose(layer.moving_mean.data, running_mean.numpy(), **FLOAT32)
    unbiased = (running_var.numpy().astype(numpy.float64) - 0.99 * var0) / 0.01  # what PyTorch moved towards
    keras_variance = 0.99 * var0 + 0.01 * unbiased * (m - 1) / m
    numpy.testing.assert_allclose(layer.moving_variance.data, keras_variance, **FLOAT32)
    # and the conversion matters: PyTorch's own running variance is a different number
    assert not numpy.allclose(layer.moving_variance.data, running_var.numpy(), rtol=1e-6, atol=0)


@given(st.integers(1, 4), st.integers(1, 6), seeds)
def test_batch_norm_inference_uses_the_moving_statistics(n, c, seed):
    x = f32(seed, (n, 3, 3, c))
    gamma, beta, mean, var = f32(seed + 1, (c,)), f32(seed + 2, (c,)), f32(seed + 3, (c,)), \
        numpy.abs(f32(seed + 4, (c,))) + 0.5
    mx, tx = pair(x)
    mg, tg = pair(gamma)
    mb, tb = pair(beta)
    y = F.batch_norm(mx, mg, mb, Tensor(mean), Tensor(var), training=False)
    t_y = TF.batch_norm(tx.permute(0, 3, 1, 2), torch.tensor(mean), torch.tensor(var), tg, tb, training=False,
                        eps=1e-3).permute(0, 2, 3, 1)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    for mine, theirs in ((mx, tx), (mg, tg), (mb, tb)):
        numpy.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **FLOAT32)


@given(st.integers(1, 8), st.integers(1, 32), st.integers(1, 16), seeds)
def test_dense(n, units_in, units, seed):
    """Keras kernel (in, units) is PyTorch's Linear weight transposed."""
    mx, tx = pair(f32(seed, (n, units_in)))
    mk, tk = pair(f32(seed + 1, (units_in, units)))
    mb, tb = pair(f32(seed + 2, (units,)))
    y, t_y = F.dense(mx, mk, mb), TF.linear(tx, tk.T, tb)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    for mine, theirs in ((mx, tx), (mk, tk), (mb, tb)):
        numpy.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **FLOAT32)


@given(st.integers(1, 8), st.integers(2, 10), st.sampled_from([1.0, 30.0]), seeds)
def test_softmax_and_log_softmax(n, k, scale, seed):
    """Large logits too (scale 30): both must stay finite and agree."""
    for ours, theirs in ((F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)):
        mx, tx = pair(f32(seed, (n, k), scale))
        y, t_y = ours(mx), theirs(tx, dim=-1)
        numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
        backprop_same(y, t_y, seed)
        numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 8), st.integers(2, 7), st.sampled_from([0.0, 0.1]), st.booleans(), st.booleans(), seeds)
def test_cross_entropy(n, k, smoothing, weighted, one_hot, seed):
    """Keras's sum-over-batch-size reduction: sum(w_i * loss_i) / N, whatever the weights.
    Label smoothing is (1 - s) * onehot + s / K on both sides."""
    rng = numpy.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    weights = rng.uniform(0, 2, size=n).astype(numpy.float32) if weighted else None
    mx, tx = pair(f32(seed, (n, k), 3.0))
    target = numpy.eye(k, dtype=numpy.float32)[labels] if one_hot else labels
    loss = F.cross_entropy(mx, target, label_smoothing=smoothing, sample_weight=weights)
    per_sample = TF.cross_entropy(tx, torch.from_numpy(labels), label_smoothing=smoothing, reduction="none")
    t_loss = (per_sample * (torch.from_numpy(weights) if weighted else 1)).sum() / n
    numpy.testing.assert_allclose(loss.item(), t_loss.item(), **FLOAT32)
    loss.backward()
    t_loss.backward()
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 8), st.integers(2, 7), seeds)
def test_cross_entropy_from_probabilities(n, k, seed):
    labels = numpy.random.default_rng(seed).integers(0, k, size=n)
    logits = f32(seed, (n, k))
    mp, tp = pair(numpy.exp(logits) / numpy.exp(logits).sum(axis=1, keepdims=True))
    loss = F.cross_entropy(mp, labels, from_logits=False)
    t_loss = TF.nll_loss(torch.log(tp.clamp(1e-7, 1 - 1e-7)), torch.from_numpy(labels))
    numpy.testing.assert_allclose(loss.item(), t_loss.item(), **FLOAT32)
    loss.backward()
    t_loss.backward()
    numpy.testing.assert_allclose(mp.grad, tp.grad.numpy(), **FLOAT32)
