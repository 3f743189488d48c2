"""Convolutions and max pooling against PyTorch on the CPU: forward, input and weight gradients.

Both sides run in float32 and receive the same random output gradient.
"""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

torch = pytest.importorskip("torch")

import torch_reference as ref  # noqa: E402  (needs torch)
from minifer import Tensor  # noqa: E402
from minifer import functional as F  # noqa: E402
from minifer.functional import conv_output_length  # noqa: E402

FLOAT32 = dict(rtol=2e-4, atol=2e-5)
seeds = st.integers(0, 2 ** 32 - 1)


def f32(seed, shape):
    return numpy.random.default_rng(seed).standard_normal(shape).astype(numpy.float32)


def ours(array):
    return Tensor(array, requires_grad=True)


@st.composite
def geometry(draw, max_kernel=5):
    g = dict(n=draw(st.integers(1, 4)), h=draw(st.integers(1, 9)), w=draw(st.integers(1, 9)),
             c=draw(st.integers(1, 6)), kernel=(draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel))),
             strides=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
             padding=draw(st.sampled_from(["same", "valid"])), seed=draw(seeds))
    for size, k, s in zip((g["h"], g["w"]), g["kernel"], g["strides"]):
        assume(conv_output_length(size, k, s, g["padding"]) >= 1)
    return g


def compare(y, t_y, pairs, seed):
    """Same output, then the same gradients after backpropagating one random output gradient."""
    numpy.testing.assert_allclose(y.data, to_keras_layout(t_y), **FLOAT32)
    grad = f32(seed + 99, y.shape)
    y.backward(grad)
    t_y.backward(torch.from_numpy(to_torch_layout(grad)))
    for mine, theirs, layout in pairs:
        numpy.testing.assert_allclose(mine.grad, layout(theirs.grad.numpy()), **FLOAT32)


def to_keras_layout(t):
    t = t.detach().numpy()
    return t.transpose(0, 2, 3, 1) if t.ndim == 4 else t


def to_torch_layout(a):
    return numpy.ascontiguousarray(a.transpose(0, 3, 1, 2)) if a.ndim == 4 else a


nhwc = lambda g: g.transpose(0, 2, 3, 1)  # noqa: E731
same = lambda g: g  # noqa: E731


@given(geometry(), st.integers(1, 6), st.booleans())
def test_conv2d(g, filters, use_bias):
    x, k, b = f32(g["seed"], (g["n"], g["h"], g["w"], g["c"])), f32(g["seed"] + 1, (*g["kernel"], g["c"], filters)), \
        f32(g["seed"] + 2, (filters,))
    mx, mk, mb = ours(x), ours(k), ours(b)
    tx, tk, tb = ref.nchw(x), ref.param(k), ref.param(b)
    y = F.conv2d(mx, mk, mb if use_bias else None, g["strides"], g["padding"])
    t_y = ref.conv2d(tx, tk, tb if use_bias else None, g["strides"], g["padding"])
    compare(y, t_y, [(mx, tx, nhwc), (mk, tk, same)] + ([(mb, tb, same)] if use_bias else []), g["seed"])


@given(geometry(), st.integers(1, 2), st.booleans())
def test_depthwise_conv2d(g, multiplier, use_bias):
    c = g["c"]
    x, k, b = f32(g["seed"], (g["n"], g["h"], g["w"], c)), f32(g["seed"] + 1, (*g["kernel"], c, multiplier)), \
        f32(g["seed"] + 2, (c * multiplier,))
    mx, mk, mb = ours(x), ours(k), ours(b)
    tx, tk, tb = ref.nchw(x), ref.param(k), ref.param(b)
    y = F.depthwise_conv2d(mx, mk, mb if use_bias else None, g["strides"], g["padding"])
    t_y = ref.depthwise_conv2d(tx, tk, tb if use_bias else None, g["strides"], g["padding"])
    compare(y, t_y, [(mx, tx, nhwc), (mk, tk, same)] + ([(mb, tb, same)] if use_bias else []), g["seed"])


def test_reference_conv_matches_a_direct_sum():
    """The oracle must be right too: the geometry on which PyTorch's oneDNN conv returned garbage."""
    rng = numpy.random.default_rng(0)
    x, k = rng.standard_normal((1, 6, 4, 1)).astype(numpy.float32), rng.standard_normal((4, 4, 1, 1)).astype(numpy.float32)
    y = to_keras_layout(ref.conv2d(ref.nchw(x), ref.param(k), None, (1, 3), "valid")).ravel()
    direct = [(x[0, r:r + 4, 0:4, 0] * k[:, :, 0, 0]).sum() for r in range(3)]
    numpy.testing.assert_allclose(y, direct, **FLOAT32)


def test_depthwise_output_channel_order_is_c_times_m_plus_m():
    """Channel c*M + m is input channel c under filter m (Keras's order), not m*C + c."""
    x = numpy.zeros((1, 1, 1, 3), numpy.float32)
    x[..., 1] = 1.0  # only input channel 1 is on
    kernel = numpy.arange(1, 7, dtype=numpy.float32).reshape(1, 1, 3, 2)  # (c, m) -> 2c + m + 1
    y = F.depthwise_conv2d(Tensor(x), Tensor(kernel)).data.ravel()
    numpy.testing.assert_array_equal(y, [0, 0, 3, 4, 0, 0])


@given(geometry(), st.integers(1, 6), st.integers(1, 2))
def test_separable_conv2d(g, filters, multiplier):
    """Depthwise (strided) then a 1x1 pointwise convolution with the bias, as Keras's SeparableConv2D."""
    from minifer.layers import SeparableConv2D
    c = g["c"]
    x = f32(g["seed"], (g["n"], g["h"], g["w"], c))
    layer = SeparableConv2D(filters, g["kernel"], g["strides"], g["padding"], depth_multiplier=multiplier)
    mx = ours(x)
    layer(mx)
    dk, pk, b = (f32(g["seed"] + i, w.shape) for i, w in enumerate(layer.weights, 1))
    layer.set_weights([dk, pk, b])
    tx, tdk, tpk, tb = ref.nchw(x), ref.param(dk), ref.param(pk), ref.param(b)
    y = layer(mx)
    t_y = ref.conv2d(ref.depthwise_conv2d(tx, tdk, None, g["strides"], g["padding"]), tpk, tb, (1, 1), "valid")
    dkw, pkw, bw = layer.weights
    compare(y, t_y, [(mx, tx, nhwc), (dkw, tdk, same), (pkw, tpk, same), (bw, tb, same)], g["seed"])


@given(geometry(max_kernel=4), st.booleans())
def test_max_pool2d(g, tiled):
    """Inputs are a permutation (no ties), where max pooling's gradient is well defined."""
    if tiled:  # strides == pool, as in the paper: the non-overlapping (reshape) path
        g = {**g, "strides": g["kernel"]}
    shape = (g["n"], g["h"], g["w"], g["c"])
    x = (numpy.random.default_rng(g["seed"]).permutation(int(numpy.prod(shape))).reshape(shape) * 0.01
         ).astype(numpy.float32)
    mx, tx = ours(x), ref.nchw(x)
    y = F.max_pool2d(mx, g["kernel"], g["strides"], g["padding"])
    t_y = ref.max_pool2d(tx, g["kernel"], g["strides"], g["padding"])
    compare(y, t_y, [(mx, tx, nhwc)], g["seed"])


@pytest.mark.parametrize("kernel,stride,agree", [(3, 1, True), (5, 1, True), (2, 1, False), (4, 1, False),
                                                  (3, 2, False), (5, 2, False)])
def test_keras_same_padding_differs_from_pytorch_symmetric_padding(kernel, stride, agree):
    """Why the references pad explicitly: on a 6x6 input, symmetric padding (k-1)//2 matches
    Keras's "same" only for odd kernels at stride 1; otherwise Keras puts the extra pixel
    bottom/right and a naive port would shift or resize the output."""
    x = f32(0, (1, 6, 6, 1))
    k = f32(1, (kernel, kernel, 1, 1))
    y = F.conv2d(Tensor(x), Tensor(k), strides=stride, padding="same").data
    tx, tk = torch.from_numpy(numpy.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(k)
    numpy.testing.assert_allclose(y, to_keras_layout(ref.conv2d(tx, tk, None, (stride, stride), "same")), **FLOAT32)
    symmetric = to_keras_layout(torch.nn.functional.conv2d(tx, tk.permute(3, 2, 0, 1), stride=stride,
                                                           padding=(kernel - 1) // 2))
    assert (symmetric.shape == y.shape and numpy.allclose(symmetric, y, **FLOAT32)) == agree
