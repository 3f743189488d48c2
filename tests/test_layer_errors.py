"""Bad inputs fail loudly and say where: the layer's name and the shapes involved.
And NaN or inf in an input always reaches the output, never silently becomes a number."""
import numpy
import pytest

import minifer
from minifer import Tensor
from minifer import functional as F
from minifer import layers as L
from minifer.layers import ShapeError


def image(n=2, h=5, w=5, c=3):
    data = numpy.random.default_rng(0).standard_normal((n, h, w, c)).astype(numpy.float32)
    return Tensor(data)


def raises_naming(layer, *fragments, call=None, **kwargs):
    """The call raises a ShapeError that names the layer's class, its name and each fragment."""
    with pytest.raises(ShapeError) as info:
        call() if call else layer(**kwargs)
    message = str(info.value)
    for part in (type(layer).__name__, layer.name, *fragments):
        assert part in message, f"{part!r} missing from: {message}"
    return message


@pytest.mark.parametrize("layer,shape,rank", [
    (L.Conv2D(4, 3), (2, 5, 5), "rank 4"),
    (L.DepthwiseConv2D(3), (2, 5, 5, 3, 1), "rank 4"),
    (L.SeparableConv2D(4, 3), (5, 5), "rank 4"),
    (L.MaxPooling2D(), (2, 8, 3), "rank 4"),
    (L.GlobalAveragePooling2D(), (2, 3), "rank 4"),
    (L.Dense(3), (4,), "rank >= 2"),
    (L.BatchNormalization(), (4,), "rank >= 2"),
    (L.Flatten(), (4,), "rank >= 2"),
])
def test_wrong_rank(layer, shape, rank):
    x = Tensor(numpy.zeros(shape, numpy.float32))
    raises_naming(layer, rank, str(shape), call=lambda: layer(x))
    assert not layer.built


@pytest.mark.parametrize("layer,first,second", [
    (L.Conv2D(4, 3), (2, 5, 5, 3), (2, 5, 5, 4)),
    (L.DepthwiseConv2D(3), (2, 5, 5, 3), (2, 5, 5, 1)),
    (L.SeparableConv2D(4, 3), (2, 5, 5, 3), (2, 5, 5, 6)),
    (L.Dense(3), (2, 8), (2, 9)),
    (L.BatchNormalization(), (2, 4, 4, 16), (2, 4, 4, 8)),
])
def test_channels_differ_from_the_built_layer(layer, first, second):
    layer(Tensor(numpy.zeros(first, numpy.float32)))
    x = Tensor(numpy.zeros(second, numpy.float32))
    message = raises_naming(layer, f"built for inputs with {first[-1]} channels", str(second),
                            call=lambda: layer(x))
    assert str(first) in message


def test_weightless_layers_accept_any_channel_count():
    """As in Keras, only weights pin the channel count."""
    pool, relu = L.MaxPooling2D(), L.ReLU()
    for c in (3, 5):
        assert pool(image(c=c)).shape == (2, 2, 2, c)
        assert relu(image(c=c)).shape == (2, 5, 5, c)


@pytest.mark.parametrize("layer,what", [
    (L.Conv2D(4, 5), "kernel (5, 5)"),
    (L.Conv2D(4, (1, 6)), "kernel (1, 6)"),
    (L.DepthwiseConv2D(6), "kernel (6, 6)"),
    (L.SeparableConv2D(4, 5), "kernel (5, 5)"),
    (L.MaxPooling2D(5), "pool (5, 5)"),
])
def test_window_larger_than_a_valid_input(layer, what):
    x = image(h=4, w=4)
    raises_naming(layer, what, "'valid'", "(4, 4)", call=lambda: layer(x))
    assert layer(image(h=6, w=6)) is not None  # a large-enough input still builds the layer


def test_window_larger_than_the_input_is_fine_with_same_padding():
    assert L.Conv2D(2, 5, padding="same")(image(h=2, w=3)).shape == (2, 2, 3, 2)
    assert L.MaxPooling2D(4, padding="same")(image(h=2, w=3)).shape == (2, 1, 1, 3)


def test_functional_windows_larger_than_a_valid_input():
    with pytest.raises(ValueError, match=r"kernel \(5, 5\) is larger than the 'valid' input \(4, 4\)"):
        F.conv2d(image(h=4, w=4), numpy.zeros((5, 5, 3, 1), numpy.float32))
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) is larger than the 'valid' input \(2, 9\)"):
        F.depthwise_conv2d(image(h=2, w=9), numpy.zeros((3, 3, 3, 1), numpy.float32))
    with pytest.raises(ValueError, match=r"pool \(3, 3\) is larger than the 'valid' input \(2, 2\)"):
        F.max_pool2d(image(h=2, w=2), 3)


@pytest.mark.parametrize("shape", [(1, 1, 1, 3), (1, 3)])
def test_batch_norm_trains_through_one_value_per_channel_as_keras_does(shape):
    """A last batch of one: the batch variance is 0, the output is beta, the statistics move."""
    layer = L.BatchNormalization()
    x = Tensor(numpy.full(shape, 2.0, numpy.float32), requires_grad=True)
    y = layer(x, training=True)
    numpy.testing.assert_array_equal(y.data, 0)  # beta
    y.sum().backward()
    assert numpy.isfinite(x.grad).all()
    numpy.testing.assert_allclose(layer.moving_mean.data, 0.02, rtol=1e-6)  # 0.99 * 0 + 0.01 * 2


@pytest.mark.parametrize("make", [
    lambda: L.Conv2D(4, 3, padding="SAMEISH"), lambda: L.DepthwiseConv2D(3, padding="full"),
    lambda: L.SeparableConv2D(4, 3, padding="causal"), lambda: L.MaxPooling2D(padding="Full"),
])
def test_bad_padding_string(make):
    with pytest.raises(ValueError, match=r'padding must be "same" or "valid", got \''):
        make()


def test_bad_padding_string_in_functional_ops():
    for call in (lambda: F.conv2d(image(), numpy.zeros((3, 3, 3, 1), numpy.float32), padding="half"),
                 lambda: F.depthwise_conv2d(image(), numpy.zeros((3, 3, 3, 1), numpy.float32), padding="x"),
                 lambda: F.max_pool2d(image(), 2, padding="full")):
        with pytest.raises(ValueError, match="padding must be"):
            call()


def test_add_with_mismatched_shapes():
    add = L.Add()
    a, b = image(c=3), image(c=4)
    raises_naming(add, "one shape", "(2, 5, 5, 3)", "(2, 5, 5, 4)", call=lambda: add([a, b]))
    raises_naming(add, "at least two inputs", call=lambda: add([a]))
    raises_naming(add, "(2, 5, 5, 3)", call=lambda: add(a))


def test_bad_labels_for_cross_entropy():
    logits = Tensor(numpy.zeros((2, 3), numpy.float32))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        F.cross_entropy(logits, numpy.array([0, 3]))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        F.cross_entropy(logits, numpy.zeros((2, 4)))


def test_bad_rates_and_sizes():
    with pytest.raises(ValueError, match="rate"):
        L.Dropout(1.0)
    with pytest.raises(ValueError, match="kernel_size"):
        L.Conv2D(4, (3, 3, 3))


NAN_LAYERS = [
    ("Conv2D", lambda: L.Conv2D(2, 3, padding="same")),
    ("DepthwiseConv2D", lambda: L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)),
    ("SeparableConv2D", lambda: L.SeparableConv2D(2, 3, padding="same")),
    ("PointwiseConv2D", lambda: L.PointwiseConv2D(2)),
    ("BatchNormalization", lambda: L.BatchNormalization()),
    ("MaxPooling2D", lambda: L.MaxPooling2D(2, padding="same")),
    ("MaxPooling2D", lambda: L.MaxPooling2D(3, strides=1, padding="same")),  # overlapping windows
    ("GlobalAveragePooling2D", lambda: L.GlobalAveragePooling2D()),
    ("ReLU", lambda: L.ReLU()),
    ("Softmax", lambda: L.Softmax()),
    ("Dropout", lambda: L.Dropout(0.5, seed=0)),
    ("Flatten", lambda: L.Flatten()),
]


@pytest.mark.parametrize("bad", [numpy.nan, numpy.inf])  # (-inf may rightly vanish: max, ReLU, softmax)
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name,make", NAN_LAYERS)
def test_non_finite_inputs_reach_the_output(name, make, training, bad):
    """A NaN (or +inf) pixel must show up in its sample's output, even through the ops that
    could hide it: a max over a window, maximum(x, 0), dropout's x * 0."""
    x = image(n=2, h=4, w=4, c=3).data
    x[1, 2, 1, 0] = bad
    with numpy.errstate(invalid="ignore", over="ignore"):
        y = make()(Tensor(x), training=training).data
    assert not numpy.isfinite(y).all(), f"{name} turned {bad} into a number"
    assert numpy.isfinite(y[0]).all() or name == "BatchNormalization" and training  # the clean sample stays clean


def test_nan_survives_max_pooling_and_relu_exactly_where_it_was():
    x = numpy.full((1, 2, 2, 1), -5.0, numpy.float32)
    x[0, 1, 1, 0] = numpy.nan
    assert numpy.isnan(F.max_pool2d(Tensor(x), 2).data).all()
    y = F.relu(Tensor(x)).data
    assert numpy.isnan(y[0, 1, 1, 0]) and (y[numpy.isfinite(y)] == 0).all()


def test_nan_reaches_the_dense_output_and_the_loss():
    x = numpy.ones((2, 4), numpy.float32)
    x[0, 1] = numpy.nan
    y = L.Dense(3)(Tensor(x)).data
    assert numpy.isnan(y[0]).all() and numpy.isfinite(y[1]).all()
    with numpy.errstate(invalid="ignore"):
        assert numpy.isnan(F.cross_entropy(Tensor(y), numpy.array([0, 1])).item())
    a, b = Tensor(x), Tensor(numpy.ones((2, 4), numpy.float32))
    assert numpy.isnan(L.Add()([a, b]).data[0, 1])


@pytest.mark.parametrize("pool, strides", [(2, None), (3, 2)])
def test_max_pooling_same_on_uint8_pads_with_the_smallest_integer(pool, strides):
    """Regression: "same" padding was -inf, which a uint8 array cannot hold (OverflowError)."""
    images = numpy.random.default_rng(0).integers(0, 256, (2, 5, 7, 3)).astype(numpy.uint8)
    layer = L.MaxPooling2D(pool, strides, padding="same")
    got = layer(images).numpy()
    expected = layer(images.astype(numpy.float64)).numpy()
    assert got.dtype == numpy.uint8
    numpy.testing.assert_array_equal(got, expected)
    with L.fresh_names():
        x = minifer.Input((5, 7, 3), dtype="uint8")
        model = minifer.Model(x, L.MaxPooling2D(pool, strides, padding="same")(x))
    numpy.testing.assert_array_equal(model.predict(images, verbose=0), expected)
