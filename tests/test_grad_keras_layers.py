"""Float64 gradient checks of the layers and activations that Keras facial-expression models add
(issue 14), w.r.t. the input and every trainable weight, on hypothesis-drawn shapes."""
import numpy
import pytest
from hypothesis import assume, given, strategies as st

from gradcheck import check_gradients, check_layer, leaf, random
from minifer import functional as F
from minifer import layers as L
from minifer.functional import conv_output_length

seeds = st.integers(0, 2 ** 32 - 1)
ACTIVATIONS = ["sigmoid", "tanh", "elu", "selu", "softplus", "swish", "gelu", "linear", "leaky_relu"]


@st.composite
def image(draw, min_side=1):
    n, h, w, c = (draw(st.integers(1, 3)), draw(st.integers(min_side, 7)), draw(st.integers(min_side, 7)),
                  draw(st.integers(1, 4)))
    seed = draw(seeds)
    return leaf(random(seed, (n, h, w, c), 0.05, 2.0) * numpy.random.default_rng(seed).choice([-1, 1], (n, h, w, c))), seed


@given(image(), st.sampled_from(ACTIVATIONS))
def test_activations_by_name_in_activation_and_dense(case, name):
    x, seed = case  # values kept away from 0, where ELU and leaky ReLU have a kink
    check_layer(L.Activation(name), x, seed)
    check_layer(L.Dense(3, activation=name), leaf(x.data.reshape(x.shape[0], -1)), seed)


@given(image(), st.booleans())
def test_gelu_exact_and_approximate(case, approximate):
    x, seed = case
    check_gradients(lambda: F.gelu(x, approximate), [x], seed)


@given(image(), st.sampled_from([0.01, 0.3]), st.sampled_from([0.5, 1.0]))
def test_leaky_relu_and_elu_layers(case, slope, alpha):
    x, seed = case
    check_layer(L.LeakyReLU(slope), x, seed)
    check_layer(L.ELU(alpha), x, seed)


@given(image(), st.sampled_from([None, [1, 2], [1, 2, 3]]), st.sampled_from([None, 0.2]))
def test_prelu_layer(case, shared_axes, l2):
    x, seed = case
    layer = L.PReLU(shared_axes=shared_axes, alpha_regularizer=l2)
    check_layer(layer, x, seed)
    expected = tuple(1 if shared_axes and a in shared_axes else s for a, s in enumerate(x.shape) if a > 0)
    assert layer.alpha.shape == expected


@given(image(), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2))
def test_zero_padding_layer(case, top, bottom, left, right):
    x, seed = case
    y = check_layer(L.ZeroPadding2D(((top, bottom), (left, right))), x, seed)
    assert y.shape == (x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right, x.shape[3])


@given(image(), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["same", "valid"]))
def test_average_pooling_layer(case, pool, stride, padding):
    x, seed = case
    for size in x.shape[1:3]:
        assume(conv_output_length(size, pool, stride, padding) >= 1)
    check_layer(L.AveragePooling2D(pool, stride, padding), x, seed)
    check_layer(L.AveragePooling2D(pool, padding=padding), x, seed)


@given(image())
def test_global_max_pooling_layer(case):
    _, seed = case
    n, h, w, c = case[0].shape
    x = leaf(numpy.random.default_rng(seed).permutation(n * h * w * c).reshape(n, h, w, c) * 0.1)  # no ties
    check_layer(L.GlobalMaxPooling2D(), x, seed)


def test_global_max_pooling_shares_the_gradient_among_ties():
    x = leaf(numpy.array([[[[1.0], [3.0]], [[3.0], [2.0]]]]))
    F.global_max_pool2d(x).sum().backward()
    numpy.testing.assert_array_equal(x.grad[0, :, :, 0], [[0, 0.5], [0.5, 0]])


@given(st.integers(2, 3), image(), st.sampled_from([-1, 1, 2]))
def test_concatenate_layer(count, case, axis):
    x, seed = case
    others = []
    for i in range(1, count):
        shape = list(x.shape)
        shape[axis] = i
        others.append(leaf(random(seed + i, shape)))
    y = check_layer(L.Concatenate(axis), x, seed, others=others)
    assert y.shape[axis] == x.shape[axis] + sum(o.shape[axis] for o in others)


@given(image())
def test_reshape_and_rescaling_layers(case):
    x, seed = case
    n, h, w, c = x.shape
    check_layer(L.Reshape((h * w, c)), x, seed)
    check_layer(L.Reshape((-1,)), x, seed)
    check_layer(L.Rescaling(1 / 127.5, -1.0), x, seed)


@given(image(), st.sampled_from([0.2, 0.5]))
def test_spatial_dropout_drops_whole_channels_with_a_seeded_mask(case, rate):
    x, seed = case

    def dropout():
        return L.SpatialDropout2D(rate, seed=seed)(x, training=True)

    check_gradients(dropout, [x], seed)
    y = dropout().data
    dropped = (y == 0).all(axis=(1, 2))  # per image and channel
    kept = ~dropped
    numpy.testing.assert_allclose(y.transpose(0, 3, 1, 2)[kept], x.data.transpose(0, 3, 1, 2)[kept] / (1 - rate))
    numpy.testing.assert_array_equal(L.SpatialDropout2D(rate)(x).data, x.data)  # identity at inference


def test_sigmoid_and_softplus_do_not_overflow():
    x = leaf(numpy.array([-1000.0, 0.0, 1000.0]))
    numpy.testing.assert_allclose(F.sigmoid(x).data, [0.0, 0.5, 1.0])
    numpy.testing.assert_allclose(F.softplus(x).data, [0.0, numpy.log(2.0), 1000.0])


@pytest.mark.parametrize("name", ["nope", "Swish"])
def test_unknown_activation_names_itself(name):
    with pytest.raises(ValueError, match=name):
        L.Activation(name)


def test_leaky_relu_by_name_has_kerass_activation_slope_and_the_layer_its_own():
    """keras.activations.leaky_relu slopes 0.2; the LeakyReLU layer 0.3: a Keras file naming
    either must predict as Keras does."""
    x = numpy.array([[-1.0, 2.0]], numpy.float32)
    numpy.testing.assert_allclose(L.Activation("leaky_relu")(x).numpy(), [[-0.2, 2.0]])
    numpy.testing.assert_allclose(L.LeakyReLU()(x).numpy(), [[-0.3, 2.0]])


def test_prelu_with_shared_axes_takes_any_size_on_them():
    import minifer
    inputs = minifer.Input((None, None, 4))
    model = minifer.Model(inputs, L.PReLU(shared_axes=[1, 2])(inputs))
    for size in (8, 16):
        assert model.predict(numpy.ones((2, size, size, 4), numpy.float32), verbose=0).shape == (2, size, size, 4)
    built_at_8 = L.PReLU()
    built_at_8(numpy.ones((1, 8, 8, 4), numpy.float32))
    with pytest.raises(L.ShapeError, match="was built for input shape"):
        built_at_8(numpy.ones((1, 16, 16, 4), numpy.float32))  # unshared axes: alpha is (8, 8, 4)

