"""Float64 gradient checks of every layer, w.r.t. its input and all its trainable weights,
with each layer's regularisation losses added to the checked scalar."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

from gradcheck import check_gradients, check_layer, leaf, random
from minifer import layers as L
from minifer.functional import conv_output_length

seeds = st.integers(0, 2 ** 32 - 1)


@st.composite
def conv_case(draw):
    c = dict(n=draw(st.integers(1, 4)), h=draw(st.integers(1, 9)), w=draw(st.integers(1, 9)),
             c=draw(st.integers(1, 6)), k=draw(st.integers(1, 5)), s=draw(st.integers(1, 3)),
             padding=draw(st.sampled_from(["same", "valid"])), use_bias=draw(st.booleans()),
             l2=draw(st.sampled_from([None, 0.2])), seed=draw(seeds))
    for size in (c["h"], c["w"]):
        assume(conv_output_length(size, c["k"], c["s"], c["padding"]) >= 1)
    return c


def conv_input(c):
    return leaf(random(c["seed"], (c["n"], c["h"], c["w"], c["c"])))


@given(conv_case(), st.integers(1, 6))
def test_conv2d_layer(c, filters):
    layer = L.Conv2D(filters, c["k"], c["s"], c["padding"], use_bias=c["use_bias"], kernel_regularizer=c["l2"],
                     bias_regularizer=c["l2"])
    check_layer(layer, conv_input(c), c["seed"])


@given(conv_case(), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2))
def test_grouped_and_dilated_conv2d_layer(c, groups, per_group, rate):
    assume(conv_output_length(min(c["h"], c["w"]), (c["k"] - 1) * rate + 1, c["s"], c["padding"]) >= 1)
    x = leaf(random(c["seed"], (c["n"], c["h"], c["w"], groups * per_group)))
    layer = L.Conv2D(2 * groups, c["k"], c["s"], c["padding"], use_bias=c["use_bias"], groups=groups,
                     dilation_rate=(rate, 1), kernel_regularizer=c["l2"])
    check_layer(layer, x, c["seed"])
    check_layer(L.DepthwiseConv2D(c["k"], c["s"], c["padding"], dilation_rate=(1, rate)), x, c["seed"])


@given(conv_case(), st.integers(1, 2))
def test_depthwise_conv2d_layer(c, multiplier):
    layer = L.DepthwiseConv2D(c["k"], c["s"], c["padding"], depth_multiplier=multiplier, use_bias=c["use_bias"],
                              depthwise_regularizer=c["l2"])
    check_layer(layer, conv_input(c), c["seed"])


@given(conv_case(), st.integers(1, 6), st.integers(1, 2))
def test_separable_conv2d_layer(c, filters, multiplier):
    layer = L.SeparableConv2D(filters, c["k"], c["s"], c["padding"], depth_multiplier=multiplier,
                              use_bias=c["use_bias"], depthwise_regularizer=c["l2"], pointwise_regularizer=c["l2"])
    check_layer(layer, conv_input(c), c["seed"])


@given(conv_case(), st.integers(1, 6))
def test_pointwise_conv2d_layer(c, filters):
    layer = L.PointwiseConv2D(filters, strides=c["s"], use_bias=c["use_bias"], kernel_regularizer=c["l2"])
    check_layer(layer, conv_input(c), c["seed"])


@given(conv_case(), st.booleans())
def test_batch_normalization_layer(c, training):
    assume(not training or c["n"] * c["h"] * c["w"] >= 2)
    layer = L.BatchNormalization(gamma_regularizer=c["l2"], beta_regularizer=c["l2"])
    check_layer(layer, conv_input(c), c["seed"], training=training)


@given(conv_case())
def test_pooling_and_shape_layers(c):
    assume(c["k"] <= 4)
    values = numpy.random.default_rng(c["seed"]).permutation(c["n"] * c["h"] * c["w"] * c["c"]) * 0.1
    x = leaf(values.reshape(c["n"], c["h"], c["w"], c["c"]))  # no ties for max
    check_layer(L.MaxPooling2D(c["k"], c["s"], c["padding"]), x, c["seed"])
    check_layer(L.MaxPooling2D(c["k"], padding=c["padding"]), x, c["seed"])  # strides = pool: tiled windows
    check_layer(L.GlobalAveragePooling2D(), x, c["seed"])
    check_layer(L.Flatten(), x, c["seed"])
    check_layer(L.UpSampling2D((c["k"], c["s"]), interpolation="bilinear"), x, c["seed"])
    reference = leaf(random(c["seed"] + 1, (c["n"], (c["h"] + 1) // 2, max(c["w"] - c["k"], 1), 2)))
    check_layer(L.CropLike(), x, c["seed"], others=[reference])  # the reference's values get no gradient


@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.booleans(), st.sampled_from([None, 0.2]),
       st.sampled_from([None, "relu", "softmax"]), seeds)
def test_dense_layer(n, units_in, units, use_bias, l2, activation, seed):
    x = leaf(random(seed, (n, units_in)))
    layer = L.Dense(units, activation=activation, use_bias=use_bias, kernel_regularizer=l2, bias_regularizer=l2)
    check_layer(layer, x, seed)


@given(st.integers(1, 4), st.integers(2, 6), seeds)
def test_activation_layers(n, c, seed):
    x = leaf(random(seed, (n, c), 0.1, 2.0) * numpy.random.default_rng(seed).choice([-1, 1], size=(n, c)))
    for layer in (L.ReLU(), L.Softmax(), L.Activation("relu"), L.Activation("softmax"), L.Activation("linear")):
        check_layer(layer, x, seed)


@given(st.integers(1, 4), st.integers(1, 6), st.sampled_from([0.2, 0.5]), seeds)
def test_dropout_layer_in_training_with_a_seeded_mask(n, c, rate, seed):
    x = leaf(random(seed, (n, c)))

    def dropout():  # a new layer with the same seed: the same mask on every call
        return L.Dropout(rate, seed=seed)(x, training=True)

    check_gradients(dropout, [x], seed)
    kept = dropout().data != 0
    numpy.testing.assert_allclose(dropout().data[kept], x.data[kept] / (1 - rate))
    numpy.testing.assert_array_equal(L.Dropout(rate)(x).data, x.data)  # identity at inference


@given(st.integers(2, 4), conv_case())
def test_add_layer(count, c):
    x = conv_input(c)
    others = [leaf(random(c["seed"] + i, x.shape)) for i in range(1, count)]
    check_layer(L.Add(), x, c["seed"], others=others)
    check_layer(L.Multiply(), x, c["seed"], others=others)


@given(conv_case())
def test_subtract_multiply_with_broadcasting_and_scale_layers(c):
    x = conv_input(c)
    gate = leaf(random(c["seed"] + 1, (c["n"], 1, 1, c["c"])))
    check_layer(L.Subtract(), x, c["seed"], others=[gate])
    check_layer(L.Multiply(), x, c["seed"], others=[gate])
    check_layer(L.Scale((c["c"],)), x, c["seed"])
    check_layer(L.Scale((c["w"], 1)), x, c["seed"])
    check_layer(L.LocalResponseNormalization(3, alpha=0.5, beta=0.6, bias=2.0), x, c["seed"])
    check_layer(L.Padding2D(((1, 0), (2, 1)), "edge"), x, c["seed"])
    check_layer(L.Permute((2, 3, 1)), x, c["seed"])


def test_regularizer_losses_follow_keras_convention():
    """L2(0.2) adds 0.2 * sum(w**2), no factor 1/2, and its gradient reaches the kernel."""
    layer = L.Dense(3, kernel_regularizer=0.2, use_bias=False)
    layer(leaf(numpy.ones((1, 2))))
    (loss,) = layer.losses
    numpy.testing.assert_allclose(loss.item(), 0.2 * (layer.kernel.data ** 2).sum())
    loss.backward()
    numpy.testing.assert_allclose(layer.kernel.grad, 0.4 * layer.kernel.data)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_weights_follow_a_float_input_dtype(dtype):
    layer = L.SeparableConv2D(2, 3, padding="same")
    y = layer(numpy.ones((1, 4, 4, 3), dtype))
    assert y.dtype == dtype and all(w.dtype == dtype for w in layer.weights)
