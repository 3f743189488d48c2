"""The activations, pools and shape ops of issue 14 against PyTorch on the CPU (float32)."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

torch = pytest.importorskip("torch")
TF = torch.nn.functional

from minifer import functional as F  # noqa: E402
from minifer import layers as L  # noqa: E402
from minifer.functional import conv_output_length  # noqa: E402
from torch_reference import FLOAT32, backprop_same, f32, pad_like_keras, pair  # noqa: E402

seeds = st.integers(0, 2 ** 32 - 1)
TWINS = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "elu": (lambda x: F.elu(x, 0.7), lambda t: TF.elu(t, 0.7)),
    "selu": (F.selu, TF.selu),
    "softplus": (F.softplus, TF.softplus),
    "swish": (F.swish, TF.silu),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate=True), lambda t: TF.gelu(t, approximate="tanh")),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t: TF.leaky_relu(t, 0.2)),
}


@given(st.sampled_from(sorted(TWINS)), st.integers(1, 6), st.integers(1, 9), st.sampled_from([1.0, 8.0]), seeds)
def test_activations(name, n, c, scale, seed):
    ours, theirs = TWINS[name]
    mx, tx = pair(f32(seed, (n, c), scale))
    y, t_y = ours(mx), theirs(tx)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), seeds)
def test_prelu_per_channel(n, h, w, c, seed):
    """Keras's PReLU(shared_axes=[1, 2]) is PyTorch's PReLU with one slope per channel."""
    x, alpha = f32(seed, (n, h, w, c)), f32(seed + 1, (c,), 0.3)
    layer = L.PReLU(shared_axes=[1, 2])
    mx, tx = pair(x)
    layer(mx)
    layer.set_weights([alpha.reshape(1, 1, c)])
    ta = torch.tensor(alpha, requires_grad=True)
    y, t_y = layer(mx), TF.prelu(tx.permute(0, 3, 1, 2), ta).permute(0, 2, 3, 1)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)
    numpy.testing.assert_allclose(layer.alpha.grad.reshape(c), ta.grad.numpy(), **FLOAT32)


@given(st.integers(1, 3), st.integers(1, 8), st.integers(1, 8), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 3), st.sampled_from(["same", "valid"]), seeds)
def test_average_pooling(n, h, w, c, pool, stride, padding, seed):
    """TensorFlow leaves "same" padding out of each mean: the reference divides the zero-padded
    window sums by the padded windows' counts of real pixels."""
    for size in (h, w):
        assume(conv_output_length(size, pool, stride, padding) >= 1)
    mx, tx = pair(f32(seed, (n, h, w, c)))
    y = F.avg_pool2d(mx, pool, stride, padding)
    nchw = tx.permute(0, 3, 1, 2)
    sums = TF.avg_pool2d(pad_like_keras(nchw, (pool, pool), (stride, stride), padding), pool, stride)
    ones = torch.ones(1, 1, h, w)
    counts = TF.avg_pool2d(pad_like_keras(ones, (pool, pool), (stride, stride), padding), pool, stride)
    t_y = (sums / counts).permute(0, 2, 3, 1)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), seeds)
def test_global_max_pooling(n, h, w, c, seed):
    mx, tx = pair(f32(seed, (n, h, w, c)))
    y, t_y = F.global_max_pool2d(mx), tx.amax(dim=(1, 2))
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4),
       st.tuples(*[st.integers(0, 3)] * 4), seeds)
def test_zero_padding(n, h, w, c, pads, seed):
    top, bottom, left, right = pads
    mx, tx = pair(f32(seed, (n, h, w, c)))
    y = F.zero_pad2d(mx, ((top, bottom), (left, right)))
    t_y = TF.pad(tx, (0, 0, left, right, top, bottom))  # F.pad lists the last axis first
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    numpy.testing.assert_allclose(mx.grad, tx.grad.numpy(), **FLOAT32)


@given(st.integers(1, 3), st.lists(st.integers(1, 4), min_size=2, max_size=4), seeds)
def test_concatenate(n, channels, seed):
    pairs = [pair(f32(seed + i, (n, 3, 2, k))) for i, k in enumerate(channels)]
    y = F.concatenate([m for m, _ in pairs])
    t_y = torch.cat([t for _, t in pairs], dim=-1)
    numpy.testing.assert_allclose(y.data, t_y.detach().numpy(), **FLOAT32)
    backprop_same(y, t_y, seed)
    for mine, theirs in pairs:
        numpy.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **FLOAT32)
